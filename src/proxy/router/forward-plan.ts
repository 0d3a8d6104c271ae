// What the router hands the connection manager for a request it forwards: where each try goes,
// whether a failed try is tried again (and after how long), the deadlines, and the edits to the
// response. One plan per request; the connection manager runs the tries, the plan decides.

import type { Duplex } from 'node:stream';
import { withoutMeshHeaders } from '../http1/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { UpstreamConnection, UpstreamPools } from '../upstream/index.ts';
import type { Shadow } from './shadow.ts';

export type { TryOutcome };

export interface ForwardPlan {
  readonly pools: UpstreamPools;
  /** The request target to send (origin form, rewritten). */
  readonly target: string;
  /** Request headers to send, without hop-by-hop or framing fields. */
  readonly headers: string[];
  /** Fault injection: wait this long before the first try (0: none). */
  readonly delayMs: number;
  /** The whole request's deadline from the end of the request, retries included (0: none). */
  readonly timeoutMs: number;
  /** Each try's deadline until its response head (0: none). */
  readonly perTryTimeoutMs: number;
  /** Request bodies up to this size are kept for retries; a longer one is not retried once sent. */
  readonly replayLimit: number;
  /** Mirrors fed a copy of the request body as it arrives. */
  readonly shadows: readonly Shadow[];
  /** Opens or reuses a connection for try `attempt` (0 first); rejects with a ProxyError. */
  acquire(attempt: number): Promise<UpstreamConnection>;
  /** Records how the current try ended (outlier detection, in-flight counts). */
  report(outcome: TryOutcome): void;
  /** Milliseconds to wait before try `attempt` after `outcome`, or -1 when the outcome is final. */
  retryDelay(outcome: TryOutcome, attempt: number): number;
  /** Edits the response head's headers (route header operations, CORS) in place or anew. */
  responseHeaders(headers: string[]): string[];
  /** The request is over (answered, refused or abandoned): releases what the plan holds. */
  finish(): void;
}

/** A plan for one fixed upstream and no policies: the inbound hop to the local app. */
export function directPlan(
  pools: UpstreamPools,
  target: string,
  headers: string[],
  acquire: () => Promise<UpstreamConnection>,
): ForwardPlan {
  return {
    pools,
    target,
    headers,
    delayMs: 0,
    timeoutMs: 0,
    perTryTimeoutMs: 0,
    replayLimit: 0,
    shadows: [],
    acquire,
    report: () => undefined,
    retryDelay: () => -1,
    responseHeaders: withoutMeshHeaders, // the app's response: its x-alder-* are not the mesh's
    finish: () => undefined,
  };
}

/** Where the router sends a request: an endpoint to forward to (with the head to send), or a reply. */
export type RouteDecision =
  | { kind: 'reply'; reply: LocalReply; delayMs?: number }
  /** CONNECT: open a byte tunnel to what `open` connects to, after a 200. */
  | { kind: 'tunnel'; open: () => Promise<Duplex> }
  | { kind: 'forward'; plan: ForwardPlan };
