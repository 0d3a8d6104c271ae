// `alder control-plane`: runs the API server over the embedded store until SIGTERM or SIGINT,
// then shuts down gracefully. Logs JSON lines; the first `control plane ready` line carries the URL.

import { once } from 'node:events';
import { AlderError, ErrorCode } from '../../config/index.ts';
import { startControlPlane } from '../../control/index.ts';
import { createLogger } from '../../telemetry/index.ts';
import { VERSION } from '../../version.ts';
import type { Command } from '../command.ts';
import { parseCommandArgs, usageError } from '../usage.ts';

const DEFAULT_LISTEN = '127.0.0.1:15080';
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const controlPlane: Command = {
  name: 'control-plane',
  help: `Run the control plane: the Kubernetes-style API over the embedded SQLite store.
Stops gracefully on SIGTERM or SIGINT.

Usage:
  alder control-plane [--listen HOST:PORT] [--data-dir DIR] [--ca-dir DIR] [--max-body-bytes N]

Options:
  --listen HOST:PORT    address to serve on (default: ${DEFAULT_LISTEN}; port 0 picks one)
  --data-dir DIR        where the store lives (default: $ALDER_DATA_DIR or ./.alder)
  --ca-dir DIR          an operator's CA (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem,
                        as Istio's plug-in CA); default: the mesh's own root in DATA-DIR/ca
  --max-body-bytes N    largest request body accepted (default: ${DEFAULT_MAX_BODY_BYTES})
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'control-plane',
      argv,
      {
        listen: { type: 'string' },
        'data-dir': { type: 'string' },
        'ca-dir': { type: 'string' },
        'max-body-bytes': { type: 'string' },
      },
      0,
    );
    const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
    const maxBodyBytes = Number(values['max-body-bytes'] ?? DEFAULT_MAX_BODY_BYTES);
    if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) {
      throw usageError(
        `--max-body-bytes must be a whole number of at least 1024, got ${values['max-body-bytes']}`,
        'control-plane',
      );
    }
    const dataDir = values['data-dir'] ?? io.env.ALDER_DATA_DIR ?? '.alder';
    const log = createLogger({ fields: { component: 'control-plane' } });
    let cp: Awaited<ReturnType<typeof startControlPlane>>;
    try {
      const caDir = values['ca-dir'];
      cp = await startControlPlane({
        listen,
        dataDir,
        maxBodyBytes,
        log,
        ...(caDir === undefined ? {} : { caDir }),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new AlderError(ErrorCode.Usage, `cannot listen on ${listen.host}:${listen.port}: ${code}`, {
          hint: 'another process holds that port: pick another with --listen HOST:PORT',
        });
      }
      throw err;
    }
    log.info('control plane ready', {
      url: cp.url,
      dataDir,
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

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw usageError(
      `--listen must be HOST:PORT (e.g. 127.0.0.1:15080), got ${JSON.stringify(text)}`,
      'control-plane',
    );
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
