// The CLI's client for the control-plane API: JSON over HTTP, or HTTPS trusting `--ca`, with the
// admin bearer token; answers checked, and a Status error turned back into an AlderError with the
// server's code, message and hint (a 401 also says where the token comes from).

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AlderError, ErrorCode } from '../config/index.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:15080';
const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiClientOptions {
  /** The bearer token sent on every request. */
  token?: string;
  /** PEM of the roots to trust for an https:// server (the mesh CA's bundle); default: the system's. */
  caPem?: string;
  /** Where the token came from, for the message of a 401. */
  tokenSource?: string;
}

export class ApiClient {
  readonly server: string;
  readonly #options: ApiClientOptions;

  constructor(server: string, options: ApiClientOptions = {}) {
    this.server = server.replace(/\/+$/, '');
    this.#options = options;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.token !== undefined) headers.authorization = `Bearer ${this.#options.token}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    const { status, answer } = await this.#send(method, path, headers, text);
    let parsed: unknown;
    try {
      parsed = answer === '' ? {} : JSON.parse(answer);
    } catch {
      throw new AlderError(
        ErrorCode.Internal,
        `the control plane at ${this.server} answered ${status} with a body that is not JSON`,
      );
    }
    if (status === 401) throw this.#unauthenticated(parsed);
    if (status < 200 || status > 299) throw statusError(status, parsed);
    return parsed as T;
  }

  #send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; answer: string }> {
    let url: URL;
    try {
      url = new URL(this.server + path);
    } catch {
      throw new AlderError(
        ErrorCode.Usage,
        `--server must be a URL such as ${DEFAULT_SERVER}, got ${this.server}`,
      );
    }
    const isTls = url.protocol === 'https:';
    const options = {
      method,
      headers,
      timeout: REQUEST_TIMEOUT_MS,
      ...(isTls && this.#options.caPem !== undefined ? { ca: this.#options.caPem } : {}),
    };
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, answer: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(this.#unreachable(err)));
      };
      const req = isTls ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.#unreachable(err)));
      req.end(body);
    });
  }

  #unreachable(err: Error): AlderError {
    const code = (err as NodeJS.ErrnoException).code;
    const isTrust = code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
    return new AlderError(
      ErrorCode.ServerUnreachable,
      `cannot reach the control plane at ${this.server}: ${code ?? err.message}`,
      {
        hint: isTrust
          ? "trust the control plane's CA with --ca FILE (or ALDER_CA): the mesh CA's root-cert.pem"
          : 'start one with `alder control-plane`, or point --server (or ALDER_SERVER) at it',
      },
    );
  }

  #unauthenticated(body: unknown): AlderError {
    const why = (body as { message?: string } | null)?.message ?? 'unauthenticated';
    const source = this.#options.tokenSource;
    return new AlderError(
      ErrorCode.Unauthenticated,
      `the control plane at ${this.server} refused the request: ${why}${source === undefined ? ' (no token was sent)' : ` (token from ${source})`}`,
      {
        hint: 'pass --token TOKEN or set ALDER_TOKEN to the admin token: the control plane writes it to <data dir>/admin-token (ALDER_DATA_DIR, default ./.alder) on its first start',
      },
    );
  }
}

function statusError(status: number, body: unknown): AlderError {
  const b = (body ?? {}) as {
    code?: string;
    message?: string;
    hint?: string;
    details?: Record<string, unknown>;
  };
  const code = Object.values(ErrorCode).includes(b.code as ErrorCode)
    ? (b.code as ErrorCode)
    : ErrorCode.Internal;
  const options: { hint?: string; details?: Record<string, unknown> } = {};
  if (b.hint !== undefined) options.hint = b.hint;
  if (b.details !== undefined) options.details = b.details;
  return new AlderError(code, b.message ?? `the control plane answered ${status}`, options);
}
