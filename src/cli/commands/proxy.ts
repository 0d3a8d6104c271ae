// `alder proxy --config DIR --workload NS/NAME`: runs one workload's proxy from Istio YAML in a folder,
// compiled locally and reloaded when the files change. Logs JSON lines; the `proxy ready` line
// carries the admin URL and the bound listeners.

import { once } from 'node:events';
import { resolve } from 'node:path';
import { AlderError, ErrorCode } from '../../config/index.ts';
import { dispatch, WorkloadProxy } from '../../proxy/index.ts';
import { createLogger } from '../../telemetry/index.ts';
import type { Command } from '../command.ts';
import { compileFolder, watchFolder } from '../local-snapshots.ts';
import { parseCommandArgs, usageError } from '../usage.ts';

export const proxy: Command = {
  name: 'proxy',
  help: `Run the proxy of one workload, from Istio YAML in a folder (Services, WorkloadEntries,
Sidecars, PeerAuthentications, MeshConfig ...), compiled locally with the control plane's compiler
and reloaded when the files change. Stops on SIGTERM or SIGINT.

Usage:
  alder proxy --config DIR --workload NAMESPACE/NAME [--cert FILE --key FILE --ca FILE]
              [--admin HOST:PORT] [--outbound-proxy HOST:PORT|none]

Options:
  --config DIR             folder of .yaml/.json config (read recursively)
  --workload NS/NAME       the WorkloadEntry this proxy serves
  --cert, --key, --ca      PEM files for mTLS between proxies (all three, or none for plaintext)
  --admin HOST:PORT        admin server: /ready /config_dump /stats (default 127.0.0.1:15000)
  --outbound-proxy ADDR    where apps send HTTP_PROXY traffic (default 127.0.0.1:15001; none to disable)
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'proxy',
      argv,
      {
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
    if (values.config === undefined) throw usageError('proxy needs --config DIR', 'proxy');
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
    const admin = hostPort(values.admin ?? '127.0.0.1:15000', '--admin');
    const outboundProxy =
      values['outbound-proxy'] === 'none'
        ? null
        : hostPort(values['outbound-proxy'] ?? '127.0.0.1:15001', '--outbound-proxy');
    const log = createLogger({ fields: { component: 'proxy', workload: values.workload } });
    const options = {
      dir: values.config,
      workload: { namespace: workload[1] as string, name: workload[2] as string },
      tls,
      outboundProxy:
        outboundProxy === null ? null : { address: outboundProxy.host, port: outboundProxy.port },
      io,
      log,
    };
    let first: Awaited<ReturnType<typeof compileFolder>>;
    try {
      first = await compileFolder(options);
    } catch (err) {
      throw new AlderError(ErrorCode.ConfigInvalid, (err as Error).message, {
        hint: 'fix the config folder; `alder validate -f DIR` lists every problem',
      });
    }
    const p = new WorkloadProxy({ admin, log, dispatch });
    const adminUrl = await p.startAdmin(admin.host, admin.port);
    const outcome = await p.apply(first);
    if (!outcome.accepted) {
      await p.close();
      throw new AlderError(ErrorCode.SnapshotInvalid, outcome.reason ?? 'snapshot refused');
    }
    const watcher = watchFolder(options, (s) => void p.apply(s));
    log.info('proxy ready', { admin: adminUrl, version: outcome.version, listeners: p.listenerAddresses() });
    const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    log.info('shutting down', { signal: String(signal[0] ?? '') });
    watcher.stop();
    await p.close();
    return 0;
  },
};

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535)
    throw usageError(`${flag} must be HOST:PORT, got ${JSON.stringify(text)}`, 'proxy');
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
