// The CLI's client for the control-plane API: JSON over HTTP with fetch, answers checked, and a
// Status error turned back into an AlderError with the server's code, message and hint.

import { AlderError, ErrorCode } from '../config/index.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:15080';

export class ApiClient {
  readonly server: string;

  constructor(server: string) {
    this.server = server.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      const init: RequestInit = { method, headers: { accept: 'application/json' } };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { accept: 'application/json', 'content-type': 'application/json' };
      }
      res = await fetch(this.server + path, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AlderError(
        ErrorCode.ServerUnreachable,
        `cannot reach the control plane at ${this.server}: ${cause?.code ?? cause?.message ?? String(err)}`,
        {
          hint: 'start one with `alder control-plane`, or point --server (or ALDER_SERVER) at it',
        },
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new AlderError(
        ErrorCode.Internal,
        `the control plane at ${this.server} answered ${res.status} with a body that is not JSON`,
      );
    }
    if (!res.ok) throw statusError(res.status, parsed);
    return parsed as T;
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
