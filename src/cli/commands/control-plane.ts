// `alder control-plane`: runs the API server over the embedded store until SIGTERM or SIGINT,
// then shuts down gracefully. Logs JSON lines; the first `control plane ready` line carries the URL.

import { once } from 'node:events';
import { join } from 'node:path';
import { AlderError, ErrorCode, parseDurationMs } from '../../config/index.ts';
import { startControlPlane } from '../../control/index.ts';
import { createLogger } from '../../telemetry/index.ts';
import { VERSION } from '../../version.ts';
import { type Command, defaultDataDir } from '../command.ts';
import { parseCommandArgs, usageError } from '../usage.ts';

const DEFAULT_LISTEN = '127.0.0.1:15080';
const DEFAULT_MESH_LISTEN = '127.0.0.1:15012';
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const controlPlane: Command = {
  name: 'control-plane',
  help: `Run the control plane: the Kubernetes-style API over the embedded SQLite store.
Stops gracefully on SIGTERM or SIGINT.

Usage:
  alder control-plane [--listen HOST:PORT] [--mesh-listen HOST:PORT|none] [--mesh-name NAME ...]
                      [--data-dir DIR] [--ca-dir DIR] [--workload-cert-ttl DURATION]
                      [--auto-registration-grace DURATION] [--max-body-bytes N] [--allowed-host NAME ...]

Options:
  --listen HOST:PORT    address to serve on (default: ${DEFAULT_LISTEN}; port 0 picks one)
  --mesh-listen ADDR    the mesh port, where proxies join and hold their config stream, over TLS
                        with a certificate from the mesh CA (default: ${DEFAULT_MESH_LISTEN}; none: no
                        proxies, API only); the API is served there too, over TLS
  --mesh-name NAME      a DNS name or address proxies reach the mesh port by, for its certificate
                        (repeatable; the listen address and localhost are always in it)
  --data-dir DIR        where the store lives (default: $ALDER_DATA_DIR or ./.alder)
  --ca-dir DIR          an operator's CA (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem,
                        as Istio's plug-in CA); default: the mesh's own root in DATA-DIR/ca
  --workload-cert-ttl D lifetime of the certificates workloads get (default 24h; proxies renew at
                        half of it)
  --auto-registration-grace D
                        how long the WorkloadEntry of a workload that joined as a member of a
                        WorkloadGroup outlives its proxy's stream (default 10s); a proxy that
                        stops cleanly takes its entry with it at once
  --max-body-bytes N    largest request body accepted (default: ${DEFAULT_MAX_BODY_BYTES})
  --allowed-host NAME   a Host the API answers besides its listen addresses and localhost (NAME for
                        any port, NAME:PORT for one; repeatable); other Hosts get 421

Every API call but /healthz, /livez, /readyz and /version needs the admin token: the first start
writes it to DATA-DIR/admin-token (0600), where the CLI on this machine finds it.
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'control-plane',
      argv,
      {
        listen: { type: 'string' },
        'data-dir': { type: 'string' },
        'ca-dir': { type: 'string' },
        'mesh-listen': { type: 'string' },
        'workload-cert-ttl': { type: 'string' },
        'auto-registration-grace': { type: 'string' },
        'mesh-name': { type: 'string', multiple: true },
        'max-body-bytes': { type: 'string' },
        'allowed-host': { type: 'string', multiple: true },
      },
      0,
    );
    const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
    const ttlText = values['workload-cert-ttl'];
    const workloadCertTtlMs = ttlText === undefined ? undefined : parseDurationMs(ttlText);
    if (workloadCertTtlMs !== undefined && workloadCertTtlMs < 10_000) {
      throw usageError(`--workload-cert-ttl must be at least 10s, got ${ttlText}`, 'control-plane');
    }
    if (ttlText !== undefined && workloadCertTtlMs === undefined) {
      throw usageError(
        `--workload-cert-ttl must be a duration such as 24h, got ${JSON.stringify(ttlText)}`,
        'control-plane',
      );
    }
    const graceText = values['auto-registration-grace'];
    const autoRegistrationGraceMs = graceText === undefined ? undefined : parseDurationMs(graceText);
    if (graceText !== undefined && autoRegistrationGraceMs === undefined) {
      throw usageError(
        `--auto-registration-grace must be a duration such as 10s, got ${JSON.stringify(graceText)}`,
        'control-plane',
      );
    }
    const meshText = values['mesh-listen'] ?? DEFAULT_MESH_LISTEN;
    const meshListen = meshText === 'none' ? undefined : parseListen(meshText, '--mesh-listen');
    const maxBodyBytes = Number(values['max-body-bytes'] ?? DEFAULT_MAX_BODY_BYTES);
    if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) {
      throw usageError(
        `--max-body-bytes must be a whole number of at least 1024, got ${values['max-body-bytes']}`,
        'control-plane',
      );
    }
    const dataDir = values['data-dir'] ?? defaultDataDir(io.env);
    const log = createLogger({ fields: { component: 'control-plane' } });
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    try {
      const caDir = values['ca-dir'];
      cp = await startControlPlane({
        listen,
        dataDir,
        maxBodyBytes,
        log,
        allowedHosts: values['allowed-host'] ?? [],
        // Tests only: a store that fills up after N pages (SQLite max_page_count), as a full disk does.
        ...(io.env.ALDER_TEST_STORE_MAX_PAGES === undefined
          ? {}
          : { storeMaxPages: Number(io.env.ALDER_TEST_STORE_MAX_PAGES) }),
        ...(caDir === undefined ? {} : { caDir }),
        ...(workloadCertTtlMs === undefined ? {} : { workloadCertTtlMs }),
        ...(autoRegistrationGraceMs === undefined ? {} : { autoRegistrationGraceMs }),
        ...(meshListen === undefined
          ? {}
          : { mesh: { listen: meshListen, names: values['mesh-name'] ?? [] } }),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        const address = (err as { address?: string; port?: number }).port;
        const flag = address !== undefined && address === meshListen?.port ? '--mesh-listen' : '--listen';
        const at = flag === '--listen' ? listen : (meshListen as { host: string; port: number });
        throw new AlderError(ErrorCode.Usage, `cannot listen on ${at.host}:${at.port}: ${code}`, {
          hint: `another process holds that port: pick another with ${flag} HOST:PORT`,
        });
      }
      throw err;
    }
    log.info('control plane ready', {
      url: cp.url,
      ...(cp.meshUrl === undefined ? {} : { meshUrl: cp.meshUrl }),
      dataDir,
      adminTokenFile: join(dataDir, 'admin-token'),
      store: cp.store.backend,
      ca: cp.ca.mode,
      caFingerprint: cp.ca.fingerprint(),
      version: VERSION,
    });
    const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    log.info('shutting down', { signal: String(signal[0] ?? '') });
    await cp.stop();
    log.info('stopped');
    return 0;
  },
};

function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw usageError(
      `${flag} must be HOST:PORT (e.g. 127.0.0.1:15080), got ${JSON.stringify(text)}`,
      'control-plane',
    );
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
