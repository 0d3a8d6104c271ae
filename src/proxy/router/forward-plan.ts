// What the router hands a codec for one request: a local reply, a byte tunnel (CONNECT), or a plan
// to forward it — where each try goes, whether a failed try is tried again (and after how long), the
// deadlines, the mirrors, and the edits to the response. The exchange runs the plan try by try.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { OutgoingRequest } from '../http/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { AcquireCancel, UpstreamEvents, UpstreamStream } from '../upstream/index.ts';
import type { Shadow } from './shadow.ts';

export type RouteDecision =
  | { kind: 'reply'; reply: LocalReply; delayMs?: number }
  /**
   * CONNECT: after a 200, the connection's bytes go to what `open` connects to (a byte tunnel), or to
   * the TunnelServer it gives, when the proxy serves what the tunnel carries itself.
   */
  | { kind: 'tunnel'; open: () => Promise<Duplex | TunnelServer> }
  | { kind: 'forward'; plan: ForwardPlan }
  /**
   * Decided later (a filter waits on something, such as a JWT's signature check): the codec holds the
   * request, its body unread, until the decision comes, then runs it as if it had come at once.
   */
  | { kind: 'pending'; decision: Promise<RouteDecision> };

/**
 * Takes over a CONNECT tunnel's client connection once the 200 is written: `socket` is the client's,
 * `head` what the client sent after the CONNECT request (undefined when nothing).
 */
export type TunnelServer = (socket: Socket, head: Buffer | undefined) => void;

export interface ForwardPlan {
  /** The request to send (rewritten target and authority, edited headers). */
  readonly request: OutgoingRequest;
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
  /** Opens the stream of try `attempt` (0 first) with `events`; rejects with a ProxyError. */
  open(attempt: number, events: UpstreamEvents, cancel: AcquireCancel): Promise<UpstreamStream>;
  /** Records how the current try ended (outlier detection, in-flight counts). */
  report(outcome: TryOutcome): void;
  /** Milliseconds to wait before try `attempt` after `outcome`, or -1 when the outcome is final. */
  retryDelay(outcome: TryOutcome, attempt: number): number;
  /** Edits the response head's headers (route header operations, CORS). */
  editResponse(headers: string[]): string[];
  /** The request is over (answered, refused or abandoned): releases what the plan holds. */
  finish(): void;
}

const NO_SHADOWS: readonly Shadow[] = [];
const nothing = () => undefined;
const never = () => -1;

/** A plan for one fixed upstream and no policies: the inbound hop to the local app. */
export function directPlan(
  request: OutgoingRequest,
  open: (events: UpstreamEvents, cancel: AcquireCancel) => Promise<UpstreamStream>,
  editResponse: (headers: string[]) => string[],
): ForwardPlan {
  return {
    request,
    delayMs: 0,
    timeoutMs: 0,
    perTryTimeoutMs: 0,
    replayLimit: 0,
    shadows: NO_SHADOWS,
    open: (_attempt, events, cancel) => open(events, cancel),
    report: nothing,
    retryDelay: never,
    editResponse,
    finish: nothing,
  };
}
