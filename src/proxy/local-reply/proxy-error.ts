// An error the proxy turns into a local reply (HTTP) or a closed connection (TCP): it carries the
// response flag and the status, and its message is the reason shown to the caller in plain words.

import type { ResponseFlag } from './response-flags.ts';

export class ProxyError extends Error {
  readonly flag: ResponseFlag;
  readonly status: number;

  constructor(flag: ResponseFlag, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.flag = flag;
    this.status = status;
  }
}
