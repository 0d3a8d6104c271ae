// `alder proxy`: runs one workload's proxy from a wire-encoded snapshot file (--snapshot FILE) or
// from Istio YAML in a folder, compiled locally (--config DIR); either is followed as it changes.
// Logs JSON lines; the `proxy ready` line carries the admin URL and the bound listeners.

import { once } from 'node:events';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { AlderError, ErrorCode } from '../../config/core.ts';
import { dispatch, WorkloadProxy } from '../../proxy/index.ts';
import { createLogger } from '../../telemetry/index.ts';
import type { Command } from '../command.ts';
import { openSnapshotFile } from '../snapshot-file.ts';
import type { SnapshotSource } from '../snapshot-source.ts';
import { parseCommandArgs, usageError } from '../usage.ts';

export const proxy: Command = {
  name: 'proxy',
  help: `Run the proxy of one workload, from a snapshot file (as the control plane will send it, or as
another proxy's /config_dump shows it), or from Istio YAML in a folder (Services, WorkloadEntries,
Sidecars, PeerAuthentications, MeshConfig ...) compiled locally with the control plane's compiler.
Either is reloaded when it changes. Stops on SIGTERM or SIGINT.

Usage:
  alder proxy --snapshot FILE [--admin HOST:PORT]
  alder proxy --config DIR --workload NAMESPACE/NAME [--cert FILE --key FILE --ca FILE]
              [--admin HOST:PORT] [--outbound-proxy HOST:PORT|none]

Options:
  --snapshot FILE          a wire-encoded snapshot (JSON); it names its workload and certificates
  --config DIR             folder of .yaml/.json config (read recursively)
  --workload NS/NAME       with --config: the WorkloadEntry this proxy serves
  --cert, --key, --ca      with --config: PEM files for mTLS between proxies (all three, or none)
  --admin HOST:PORT        admin server (default 127.0.0.1:15000): /ready for anyone, /config_dump,
                           /stats and the rest for callers on this host only
  --outbound-proxy ADDR    with --config: where apps send HTTP_PROXY traffic (default 127.0.0.1:15001;
                           none to disable)
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
      },
      0,
    );
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
  const workload = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(values.workload ?? '');
  if (workload === null)
    throw usageError('proxy needs --workload NAMESPACE/NAME, e.g. default/reviews-v1', 'proxy');
  const tlsFiles = [values.cert, values.key, values.ca];
  if (tlsFiles.some((f) => f !== undefined) && tlsFiles.some((f) => f === undefined)) {
    throw usageError('give --cert, --key and --ca together', 'proxy');
  }
  const tls =
    values.cert === undefined || values.key === undefined || values.ca === undefined
      ? undefined
      : { certFile: resolve(values.cert), keyFile: resolve(values.key), caFile: resolve(values.ca) };
  const outboundProxy =
    values['outbound-proxy'] === 'none'
      ? null
      : hostPort(values['outbound-proxy'] ?? '127.0.0.1:15001', '--outbound-proxy');
  const { openConfigFolder } = await import('../local-snapshots.ts');
  return openConfigFolder({
    dir: values.config,
    workload: { namespace: workload[1] as string, name: workload[2] as string },
    tls,
    outboundProxy: outboundProxy === null ? null : { address: outboundProxy.host, port: outboundProxy.port },
  });
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535)
    throw usageError(`${flag} must be HOST:PORT, got ${JSON.stringify(text)}`, 'proxy');
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host.startsWith('::ffff:127.');
}
