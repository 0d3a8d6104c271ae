// The CLI's client for a running proxy's admin port (`alder proxy-config`, `alder explain --admin`):
// GET a JSON view, with an unreachable port or a refusal turned into an AlderError with a hint.

import { get } from 'node:http';
import { AlderError, ErrorCode } from '../config/index.ts';
import { usageError } from './usage.ts';

export const DEFAULT_ADMIN = '127.0.0.1:15000';

export const ADMIN_HELP = `  --admin HOST:PORT    the proxy's admin address (default ${DEFAULT_ADMIN}; the "admin" of its "proxy ready" log line)`;

const TIMEOUT_MS = 10_000;

/**
 * `127.0.0.1:15000`, `[::1]:15000`, `http://127.0.0.1:15000`, or a node proxy's workload
 * (`http://127.0.0.1:15020/workloads/NS/NAME`) → the base URL; usage error otherwise.
 */
export function adminUrl(text: string | undefined, command: string): string {
  const value = (text ?? DEFAULT_ADMIN).replace(/^http:\/\//, '').replace(/\/+$/, '');
  // A path: one workload's admin API on a node proxy's port (/workloads/NAMESPACE/NAME).
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})(\/[A-Za-z0-9._~/-]*)?$/.exec(value);
  if (m === null || Number(m[2]) > 65535)
    throw usageError(
      `--admin must be HOST:PORT or http://HOST:PORT/PATH, got ${JSON.stringify(text)}`,
      command,
    );
  return `http://${m[1]}:${m[2]}${m[3] ?? ''}`;
}

/** GETs `path` from the admin port at `base` and parses the JSON it answers. */
export async function adminGet<T>(base: string, path: string): Promise<T> {
  let res: { status: number; text: string };
  try {
    res = await httpGet(base + path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AlderError(
      ErrorCode.ServerUnreachable,
      `cannot reach the proxy's admin port at ${base}: ${e.code ?? e.message}`,
      {
        hint: 'start the proxy (`alder proxy ...`), or point --admin at its admin address (the "admin" of its "proxy ready" log line)',
      },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new AlderError(
      ErrorCode.Internal,
      `the admin port at ${base} answered ${res.status} to ${path.split('?')[0]} with a body that is not JSON`,
      { hint: 'is --admin the admin port of an Alder proxy of this version?' },
    );
  }
  if (res.status >= 200 && res.status < 300) return body as T;
  const b = (body ?? {}) as { code?: string; message?: string; hint?: string; error?: string };
  const code = Object.values(ErrorCode).includes(b.code as ErrorCode)
    ? (b.code as ErrorCode)
    : ErrorCode.Internal;
  const message = b.message ?? b.error ?? `answered ${res.status}`;
  const hint =
    b.hint ?? (res.status === 503 ? 'the proxy has applied no snapshot yet: see its log' : undefined);
  throw new AlderError(code, `proxy admin ${base}: ${message}`, hint === undefined ? {} : { hint });
}

/** node:http rather than fetch, which refuses some ports (fetch's "bad ports") an admin port may use. */
function httpGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', reject);
  });
}
