// An error the proxy turns into a local reply (HTTP) or a closed connection (TCP): it carries the
// kind of reply (status, response flag, gRPC status, from reply-kinds.ts), and its message is the
// reason shown to the caller in plain words.

import type { ReplyKind } from './reply-kinds.ts';
import type { ResponseFlag } from './response-flags.ts';

export class ProxyError extends Error {
  readonly kind: ReplyKind;

  constructor(kind: ReplyKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.kind = kind;
  }

  get flag(): ResponseFlag {
    return this.kind.flag;
  }

  get status(): number {
    return this.kind.status;
  }
}
