// A connection to an upstream that could not be made (flag UF), with its parts kept apart so that
// each caller can say it in its own words: the inbound path names the app and its workload, the
// outbound path the cluster and the peer's endpoint, and observation keeps the bare reason.

import { ProxyError, Reply } from '../local-reply/index.ts';

/** What went wrong, for wording and hints: refused (nothing listens), timeout, reset, unreachable, tls, other. */
export type ConnectFailureKind = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'tls' | 'other';

export interface ConnectFailure {
  /** `address:port` of the endpoint the connection was for. */
  target: string;
  /** How it was reached when not directly: `tunnel port 15008`. */
  via?: string | undefined;
  kind: ConnectFailureKind;
  /** In words, lowercase: `connection refused`, `connect timeout after 1000ms`. */
  reason: string;
  cause?: unknown;
}

/** Its message reads `upstream 127.0.1.3:9080 (tunnel port 15008): connection refused`. */
export class ConnectError extends ProxyError {
  readonly target: string;
  readonly via: string | undefined;
  readonly failure: ConnectFailureKind;
  readonly reason: string;

  constructor(f: ConnectFailure) {
    const via = f.via === undefined ? '' : ` (${f.via})`;
    super(Reply.ConnectFailure, `upstream ${f.target}${via}: ${f.reason}`, { cause: f.cause });
    this.name = 'ConnectError';
    this.target = f.target;
    this.via = f.via;
    this.failure = f.kind;
    this.reason = f.reason;
  }

  /** The reason with the way it went: `connection refused (tunnel port 15008)`. */
  get detail(): string {
    return this.via === undefined ? this.reason : `${this.reason} (${this.via})`;
  }
}
