// `alder proxy`: runs one workload's proxy from a wire-encoded snapshot file (--snapshot FILE) or
// from Istio YAML in a folder, compiled locally (--config DIR); either is followed as it changes.
// Logs JSON lines; the `proxy ready` line carries the admin URL and the bound listeners.

import { once } from 'node:events';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { JoinAs } from '../../agent/index.ts';
import { AlderError, ErrorCode } from '../../config/core.ts';
import { dispatch, WorkloadProxy } from '../../proxy/index.ts';
import { createLogger } from '../../telemetry/index.ts';
import type { Command } from '../command.ts';
import { openSnapshotFile } from '../snapshot-file.ts';
import type { SnapshotSource } from '../snapshot-source.ts';
import { parseCommandArgs, parseHostPort, usageError } from '../usage.ts';

export const proxy: Command = {
  name: 'proxy',
  help: `Run the proxy of one workload, from a snapshot file (as the control plane will send it, or as
another proxy's /config_dump shows it), or from Istio YAML in a folder (Services, WorkloadEntries,
Sidecars, PeerAuthentications, MeshConfig ...) compiled locally with the control plane's compiler.
Either is reloaded when it changes. Stops on SIGTERM or SIGINT.

Usage:
  alder proxy --control-plane HOST:PORT --workload NAMESPACE/NAME --token TOKEN
              [--state-dir DIR] [--admin HOST:PORT] [--outbound-proxy HOST:PORT|none]
  alder proxy --control-plane HOST:PORT --workload-group NAMESPACE/NAME --token TOKEN
              [--address IP] [--label KEY=VALUE ...] [--state-dir DIR] ...
  alder proxy --control-plane HOST:PORT --workload NAMESPACE/NAME --cert FILE --key FILE --ca FILE ...
  alder proxy --snapshot FILE [--admin HOST:PORT]
  alder proxy --config DIR --workload NAMESPACE/NAME [--cert FILE --key FILE --ca FILE]
              [--admin HOST:PORT] [--outbound-proxy HOST:PORT|none]

Options:
  --control-plane ADDR     the control plane's mesh port (HOST:PORT or https://HOST:PORT, usually :15012):
                           the proxy holds a stream to it, applies what it pushes, and keeps serving
                           its last config (saved in --state-dir) while it is away
  --token TOKEN            with --control-plane: a join token (\`alder token create\`; or set
                           ALDER_JOIN_TOKEN). The proxy checks the control plane's CA against the
                           hash in the token, makes its key, and gets a certificate for the one
                           identity the token grants; it renews it at half-life. Needed only until
                           the certificate is saved in --state-dir
  --workload-group NS/NAME with --control-plane: join as a member of this WorkloadGroup; the control
                           plane makes the workload's WorkloadEntry from the group's template
                           (named GROUP-ADDRESS), keeps it while the proxy is connected and for a
                           grace period after (10s by default), and removes it when the proxy stops.
                           The token must grant the group's service account. The group's probe, if
                           any, is run against the app (at 127.0.0.1) and a failing app leaves
                           rotation
  --address IP             with --workload-group: the workload's address (default: the address the
                           proxy reaches the control plane from)
  --label KEY=VALUE        with --workload-group: a label of this workload, over the group's (repeatable)
  --state-dir DIR          with --control-plane: where the key, certificate and last good config are
                           kept (default .alder/proxy/NAMESPACE-NAME, of the workload or the group)
  --snapshot FILE          a wire-encoded snapshot (JSON); it names its workload and certificates
  --config DIR             folder of .yaml/.json config (read recursively)
  --workload NS/NAME       with --config or --control-plane: the WorkloadEntry this proxy serves
  --cert, --key, --ca      PEM files for mTLS between proxies (all three, or none; with
                           --control-plane they also authenticate the proxy to it)
  --admin HOST:PORT        admin server (default 127.0.0.1:15000): /ready for anyone, /config_dump,
                           /stats and the rest for callers on this host only
  --outbound-proxy ADDR    with --config or --control-plane: where apps send HTTP_PROXY traffic (default 127.0.0.1:15001;
                           none to disable)

Ports the proxy takes:
  admin          --admin, default 127.0.0.1:15000
  outbound       --outbound-proxy, default 127.0.0.1:15001 (apps' HTTP_PROXY)
  tunnel         the workload's address, port 15008: HBONE from other proxies (MeshConfig
                 hbone.port; a WorkloadEntry's ports.hbone for workloads sharing an address)
  inbound        the workload's address, on each port of the Services that select it
  egress         a Sidecar's egress listeners, where their bind says
`,
  async run(argv) {
    const { values } = parseCommandArgs(
      'proxy',
      argv,
      {
        snapshot: { type: 'string' },
        config: { type: 'string' },
        workload: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        admin: { type: 'string' },
        'outbound-proxy': { type: 'string' },
        'control-plane': { type: 'string' },
        'state-dir': { type: 'string' },
        token: { type: 'string' },
        'workload-group': { type: 'string' },
        address: { type: 'string' },
        label: { type: 'string', multiple: true },
      },
      0,
    );
    if (values['control-plane'] !== undefined)
      return runWithControlPlane(values, process.env.ALDER_JOIN_TOKEN);
    for (const flag of ['token', 'workload-group', 'address', 'label'] as const) {
      if (values[flag] !== undefined) throw usageError(`--${flag} goes with --control-plane`, 'proxy');
    }
    const admin = hostPort(values.admin ?? '127.0.0.1:15000', '--admin');
    const log = createLogger({
      fields:
        values.snapshot === undefined
          ? { component: 'proxy', workload: values.workload }
          : { component: 'proxy', snapshot: values.snapshot },
    });
    const source = await openSource(values);
    const p = new WorkloadProxy({ admin, log, dispatch });
    const adminUrl = await p.startAdmin(admin.host, admin.port);
    if (!isLoopbackHost(admin.host)) {
      log.warn('admin port bound to a non-loopback address: remote callers get /ready only', {
        admin: adminUrl,
      });
    }
    const outcome = await p.apply(source.first);
    if (!outcome.accepted) {
      await p.close();
      throw new AlderError(ErrorCode.SnapshotInvalid, outcome.reason);
    }
    const watcher = source.follow({ apply: (s) => p.apply(s), refuse: (reason) => p.refuse(reason) });
    const who = p.runtime?.snapshot.proxy;
    log.info('proxy ready', {
      admin: adminUrl,
      version: outcome.version,
      workload: `${who?.namespace}/${who?.workload}`,
      listeners: p.listenerAddresses(),
    });
    const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    log.info('shutting down', { signal: String(signal[0] ?? '') });
    watcher.stop();
    await p.close();
    return 0;
  },
};

interface ControlPlaneFlags {
  'control-plane'?: string | undefined;
  'state-dir'?: string | undefined;
  workload?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  admin?: string | undefined;
  'outbound-proxy'?: string | undefined;
  snapshot?: string | undefined;
  config?: string | undefined;
  token?: string | undefined;
  'workload-group'?: string | undefined;
  address?: string | undefined;
  label?: string[] | undefined;
}

/** `--control-plane`: the agent holds the stream and drives the proxy. */
async function runWithControlPlane(values: ControlPlaneFlags, envToken: string | undefined): Promise<number> {
  if (values.snapshot !== undefined || values.config !== undefined) {
    throw usageError(
      '--control-plane takes no --snapshot or --config: the control plane sends the config',
      'proxy',
    );
  }
  const address = (values['control-plane'] ?? '').replace(/^https:\/\//, '').replace(/\/+$/, '');
  const cp = hostPort(address, '--control-plane');
  const as = joinAs(values);
  const named = 'workload' in as ? as.workload : as.group;
  const tls = tlsFiles(values);
  const token = values.token ?? envToken;
  if (tls !== undefined && values.token !== undefined) {
    throw usageError(
      'give --token (the proxy gets its certificate) or --cert, --key and --ca, not both',
      'proxy',
    );
  }
  if (tls !== undefined && 'group' in as) {
    throw usageError(
      '--workload-group joins with --token: the control plane registers the workload',
      'proxy',
    );
  }
  const admin = hostPort(values.admin ?? '127.0.0.1:15000', '--admin');
  const log = createLogger({
    fields: {
      component: 'proxy',
      ...('workload' in as
        ? { workload: `${named.namespace}/${named.name}` }
        : { workloadGroup: `${named.namespace}/${named.name}` }),
    },
  });
  const outboundProxy = parseOutboundProxy(values['outbound-proxy']);
  const stateDir = resolve(
    values['state-dir'] ?? join('.alder', 'proxy', `${named.namespace}-${named.name}`),
  );
  const { Sidecar } = await import('../../agent/index.ts');
  const sidecar = await Sidecar.start({
    controlPlane: cp,
    as,
    token,
    tls,
    stateDir,
    admin,
    outboundProxy: outboundProxy === null ? null : { address: outboundProxy.host, port: outboundProxy.port },
    log,
  });
  const { proxy: p, workload } = sidecar;
  const stopped = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  const first = await Promise.race([sidecar.serving.then(() => undefined), stopped]);
  if (first === undefined) {
    sidecar.log.info('proxy ready', {
      admin: sidecar.adminUrl,
      version: p.runtime?.snapshot.version,
      workload: `${workload.namespace}/${workload.name}`,
      listeners: p.listenerAddresses(),
    });
  }
  const signal = first ?? (await stopped);
  sidecar.log.info('shutting down', { signal: String(signal[0] ?? '') });
  await sidecar.stop();
  return 0;
}

/** `--workload NS/NAME`, or `--workload-group NS/NAME` with its address and labels. */
function joinAs(values: ControlPlaneFlags): Exclude<JoinAs, { run: unknown }> {
  const group = values['workload-group'];
  if (group === undefined) {
    if (values.address !== undefined || values.label !== undefined) {
      throw usageError('--address and --label go with --workload-group', 'proxy');
    }
    return { workload: parseWorkload(values.workload) };
  }
  if (values.workload !== undefined)
    throw usageError('give --workload or --workload-group, not both', 'proxy');
  const ref = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(group);
  if (ref === null)
    throw usageError('--workload-group must be NAMESPACE/NAME, e.g. default/ratings-vm', 'proxy');
  if (values.address !== undefined && isIP(values.address) === 0) {
    throw usageError(`--address must be an IP address, got ${JSON.stringify(values.address)}`, 'proxy');
  }
  const labels: Record<string, string> = {};
  for (const text of values.label ?? []) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw usageError(`--label must be KEY=VALUE, got ${JSON.stringify(text)}`, 'proxy');
    labels[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return {
    group: { namespace: ref[1] as string, name: ref[2] as string },
    ...(values.address === undefined ? {} : { address: values.address }),
    ...(values.label === undefined ? {} : { labels }),
  };
}

function parseWorkload(text: string | undefined): { namespace: string; name: string } {
  const workload = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(text ?? '');
  if (workload === null)
    throw usageError('proxy needs --workload NAMESPACE/NAME, e.g. default/reviews-v1', 'proxy');
  return { namespace: workload[1] as string, name: workload[2] as string };
}

function tlsFiles(values: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined }) {
  const files = [values.cert, values.key, values.ca];
  if (files.some((f) => f !== undefined) && files.some((f) => f === undefined)) {
    throw usageError('give --cert, --key and --ca together', 'proxy');
  }
  return values.cert === undefined || values.key === undefined || values.ca === undefined
    ? undefined
    : { certFile: resolve(values.cert), keyFile: resolve(values.key), caFile: resolve(values.ca) };
}

function parseOutboundProxy(text: string | undefined): { host: string; port: number } | null {
  return text === 'none' ? null : hostPort(text ?? '127.0.0.1:15001', '--outbound-proxy');
}

interface SourceFlags {
  snapshot?: string | undefined;
  config?: string | undefined;
  workload?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  'outbound-proxy'?: string | undefined;
}

/** --snapshot reads a file and compiles nothing; --config loads the config model and the compiler. */
async function openSource(values: SourceFlags): Promise<SnapshotSource> {
  if (values.snapshot !== undefined) {
    const compileFlags = (['config', 'workload', 'cert', 'key', 'ca', 'outbound-proxy'] as const).filter(
      (f) => values[f] !== undefined,
    );
    if (compileFlags.length > 0) {
      throw usageError(
        `--snapshot takes no --${compileFlags.join(', --')}: the snapshot names its workload, listeners and certificates`,
        'proxy',
      );
    }
    return openSnapshotFile(resolve(values.snapshot));
  }
  if (values.config === undefined) throw usageError('proxy needs --snapshot FILE or --config DIR', 'proxy');
  const workload = parseWorkload(values.workload);
  const tls = tlsFiles(values);
  const outboundProxy = parseOutboundProxy(values['outbound-proxy']);
  const { openConfigFolder } = await import('../local-snapshots.ts');
  return openConfigFolder({
    dir: values.config,
    workload,
    tls,
    outboundProxy: outboundProxy === null ? null : { address: outboundProxy.host, port: outboundProxy.port },
  });
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  return parseHostPort(text, flag, 'proxy');
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host.startsWith('::ffff:127.');
}
