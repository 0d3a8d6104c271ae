// The one try loop of the proxy, for every protocol and direction: runs a forwarded request's plan
// try by try — open an upstream stream, send what the caller has sent so far (kept for retries up to
// a limit) and what follows, stream the response back with backpressure both ways — and decides,
// until a response head has gone to the caller, whether a failed try (connect failure, reset,
// refused stream, a status the retry policy names, a per-try timeout) is tried again. The codec
// adapters feed it the request (body, end, abort) and render what it sends the caller.

import type { Duplex } from 'node:stream';
import type { ResponseHead } from '../http/index.ts';
import { withoutMeshHeaders } from '../http1/index.ts';
import {
  afterRetries,
  type LocalReply,
  localReply,
  Reply,
  ResponseFlag,
  replyOfError,
} from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { AcquireCancel, UpstreamEvents, UpstreamFailure, UpstreamStream } from '../upstream/index.ts';
import type { ForwardPlan } from './forward-plan.ts';
import { relayUpgraded } from './upgrade.ts';

/** The caller's side of an exchange, rendered by its codec (HTTP/1 connection or HTTP/2 stream). */
export interface Downstream {
  /** A 1xx before the final response (HTTP/1 callers get it; others may drop it). */
  interim(head: ResponseHead): void;
  /** The final response head; framing 'none' means the response ends here. */
  respond(head: ResponseHead): void;
  /** Response body bytes; false when the exchange should wait for onDrain. */
  write(chunk: Buffer): boolean;
  end(trailers: string[] | null): void;
  /**
   * The response cannot complete: the caller must see a cut, never a complete message (an HTTP/2
   * caller gets `h2Code`, the upstream's own reset code, when there is one).
   */
  reset(h2Code?: number): void;
  /** A reply the proxy makes itself (before any response head went out). */
  reply(reply: LocalReply): void;
  /**
   * The upstream switched protocols: renders the switch (HTTP/1 101 with Upgrade, HTTP/2 200 to the
   * extended CONNECT), writes to `tunnel` what the caller sent after its request, and hands over the
   * caller's byte stream, or undefined when the caller is gone. HTTP is over on it.
   */
  upgrade(head: ResponseHead, tunnel: Duplex): Duplex | undefined;
  /** Stops or restarts the request body (backpressure towards the caller). */
  pause(): void;
  resume(): void;
  /** Set by the exchange: called when a write that returned false has drained. */
  onDrain: (() => void) | undefined;
}

export class Exchange implements UpstreamEvents {
  readonly #down: Downstream;
  readonly #plan: ForwardPlan;
  #up: UpstreamStream | undefined;
  #attempt = 0;
  /** Body chunks that came before the first try's stream was open (the caller is paused meanwhile). */
  #pending: Buffer[] = [];
  /** The request body so far, for retries; null once past the plan's replay limit. */
  #body: Buffer[] | null;
  #bodyBytes = 0;
  #trailers: string[] | null = null;
  #isRequestDone: boolean;
  #isCommitted = false;
  #isOver = false;
  #waitTimer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  #routeTimer: NodeJS.Timeout | undefined;
  readonly #cancel: AcquireCancel = {};
  readonly #resumeUp = () => this.#up?.resume();
  readonly #resumeDown = () => this.#down.resume();

  constructor(down: Downstream, plan: ForwardPlan, isRequestDone: boolean) {
    this.#down = down;
    this.#plan = plan;
    this.#isRequestDone = isRequestDone;
    this.#body = plan.replayLimit > 0 ? [] : null;
    down.onDrain = this.#resumeUp;
  }

  /** Whether the exchange has answered the caller (or given up); the codec may then move on. */
  get isOver(): boolean {
    return this.#isOver;
  }

  start(): void {
    if (this.#isRequestDone) this.#startRouteTimer();
    if (this.#plan.delayMs > 0) {
      if (!this.#isRequestDone) this.#down.pause();
      this.#waitTimer = setTimeout(() => this.#startTry(), this.#plan.delayMs);
    } else this.#startTry();
  }

  /** A piece of the request body from the caller. */
  body(chunk: Buffer): void {
    if (this.#isOver) return;
    this.#bodyBytes += chunk.length;
    for (const shadow of this.#plan.shadows) shadow.body(chunk);
    if (this.#body !== null) {
      if (this.#bodyBytes <= this.#plan.replayLimit) this.#body.push(chunk);
      else this.#body = null;
    }
    const up = this.#up;
    if (up === undefined) {
      // Before the first try is up, or between tries: hold the caller until a stream is open.
      this.#down.pause();
      if (this.#attempt === 0) this.#pending.push(chunk);
      else if (this.#body === null) this.#fail(this.#lostBody());
      return;
    }
    if (!up.write(chunk)) {
      this.#down.pause();
      up.onDrain = this.#resumeDown;
    }
  }

  /** The caller's request is complete. */
  end(trailers: string[] | null): void {
    if (this.#isOver || this.#isRequestDone) return;
    this.#isRequestDone = true;
    this.#trailers = trailers;
    for (const shadow of this.#plan.shadows) shadow.end(trailers);
    const up = this.#up;
    if (up !== undefined) {
      up.end(trailers);
      this.#startTryTimer();
    }
    this.#startRouteTimer();
  }

  /** The caller went away or its request turned out malformed: nothing more is sent anywhere. */
  abort(): void {
    if (this.#isOver) return;
    if (!this.#isRequestDone) for (const shadow of this.#plan.shadows) shadow.abort();
    this.#over();
  }

  #startTry(): void {
    this.#waitTimer = undefined;
    if (this.#isOver) return;
    const attempt = this.#attempt;
    this.#plan.open(attempt, this, this.#cancel).then(
      (up) => {
        if (this.#isOver || attempt !== this.#attempt) up.abort();
        else this.#attach(up);
      },
      (err: unknown) => {
        if (this.#isOver || attempt !== this.#attempt) return;
        const reply = replyOfError(err);
        const outcome: TryOutcome | undefined =
          reply.flag === ResponseFlag.UpstreamConnectionFailure
            ? { kind: 'connect-failure' }
            : reply.flag === ResponseFlag.UpstreamConnectionTermination
              ? { kind: 'refused-stream' }
              : undefined;
        if (outcome === undefined || !this.#retry(outcome)) this.#fail(reply);
      },
    );
  }

  #attach(up: UpstreamStream): void {
    this.#up = up;
    const chunks = this.#attempt === 0 ? this.#pending : (this.#body ?? []);
    this.#pending = [];
    let isFlowing = true;
    for (const chunk of chunks) isFlowing = up.write(chunk);
    if (this.#isRequestDone) {
      up.end(this.#trailers);
      this.#startTryTimer();
    } else if (isFlowing) this.#down.resume();
    else up.onDrain = this.#resumeDown;
  }

  // UpstreamEvents: what the upstream of the current try says.

  onHead(head: ResponseHead): void {
    if (this.#isOver) return;
    if (head.isInterim) {
      if (!this.#isCommitted) this.#down.interim(head);
      return;
    }
    const outcome: TryOutcome =
      head.grpcStatus === undefined
        ? { kind: 'response', status: head.status }
        : { kind: 'response', status: head.status, grpcStatus: head.grpcStatus };
    if (this.#retry(outcome)) return;
    clearTimeout(this.#tryTimer);
    this.#isCommitted = true;
    head.headers = this.#plan.editResponse(head.headers);
    this.#down.respond(head);
  }

  onBody(chunk: Buffer): void {
    if (!this.#down.write(chunk)) this.#up?.pause();
  }

  onEnd(trailers: string[] | null): void {
    if (this.#isOver) return;
    const up = this.#up;
    this.#up = undefined;
    up?.release(this.#isRequestDone);
    this.#over();
    // Last: an HTTP/1 caller's next request may start on this very call. Trailers never carry the
    // mesh's own fields from an app.
    this.#down.end(trailers === null ? null : withoutMeshHeaders(trailers));
  }

  /**
   * The upstream took the upgrade: the switch goes to the caller and the exchange becomes a byte relay
   * (retries, timeouts and mirrors are over); the plan lets go of its slot when both sides have closed.
   */
  onUpgrade(head: ResponseHead, tunnel: Duplex): void {
    this.#up = undefined;
    if (this.#isOver) {
      tunnel.destroy();
      return;
    }
    if (!this.#isRequestDone) {
      tunnel.destroy();
      this.onFailure({
        kind: 'protocol-error',
        message: 'upstream switched protocols before the request was complete',
      });
      return;
    }
    this.#plan.report({ kind: 'response', status: head.status });
    this.#isCommitted = true;
    head.headers = this.#plan.editResponse(head.headers);
    this.#over(false);
    const plan = this.#plan;
    const caller = this.#down.upgrade(head, tunnel);
    if (caller === undefined) {
      tunnel.destroy();
      plan.finish();
      return;
    }
    relayUpgraded(caller, tunnel, () => plan.finish());
  }

  onFailure(failure: UpstreamFailure): void {
    if (this.#isOver) return;
    this.#up = undefined;
    if (this.#isCommitted) {
      this.#over();
      this.#down.reset(failure.h2Code);
      return;
    }
    if (failure.kind === 'protocol-error') {
      this.#plan.report({ kind: 'response', status: Reply.UpstreamProtocolError.status });
      this.#fail(localReply(Reply.UpstreamProtocolError, failure.message));
      return;
    }
    const outcome: TryOutcome =
      failure.kind === 'refused-stream'
        ? { kind: 'refused-stream' }
        : { kind: 'reset', beforeResponse: true };
    if (this.#retry(outcome)) return;
    this.#fail(localReply(Reply.UpstreamReset, failure.message));
  }

  /**
   * After a failed try: reports it, and when the plan allows another try (and the request can be sent
   * again) drops the try's stream, schedules the next and returns true.
   */
  #retry(outcome: TryOutcome): boolean {
    this.#plan.report(outcome);
    if (this.#isCommitted || this.#isOver) return false;
    if (this.#body === null && this.#bodyBytes > 0) return false;
    const delay = this.#plan.retryDelay(outcome, this.#attempt + 1);
    if (delay < 0) return false;
    this.#attempt++;
    clearTimeout(this.#tryTimer);
    const up = this.#up;
    this.#up = undefined;
    up?.abort();
    if (!this.#isRequestDone) this.#down.pause();
    this.#waitTimer = setTimeout(() => this.#startTry(), delay);
    return true;
  }

  #startTryTimer(): void {
    const ms = this.#plan.perTryTimeoutMs;
    if (ms <= 0 || this.#up === undefined || this.#isCommitted) return;
    clearTimeout(this.#tryTimer);
    this.#tryTimer = setTimeout(() => this.#onTryTimeout(), ms);
  }

  /** The route's timeout runs from the end of the request (Envoy's rule), retries included. */
  #startRouteTimer(): void {
    const ms = this.#plan.timeoutMs;
    if (ms > 0 && this.#routeTimer === undefined && !this.#isOver)
      this.#routeTimer = setTimeout(() => this.#onRouteTimeout(), ms);
  }

  #onTryTimeout(): void {
    this.#tryTimer = undefined;
    if (this.#isCommitted || this.#isOver) return;
    const up = this.#up;
    this.#up = undefined;
    up?.abort();
    if (this.#retry({ kind: 'timeout' })) return;
    this.#fail(
      localReply(
        Reply.UpstreamTimeout,
        `upstream request timeout: no response within the per-try timeout of ${this.#plan.perTryTimeoutMs} ms`,
      ),
    );
  }

  #onRouteTimeout(): void {
    this.#routeTimer = undefined;
    if (this.#isOver) return;
    this.#plan.report({ kind: 'timeout' });
    if (this.#isCommitted) {
      this.#over();
      this.#down.reset();
      return;
    }
    this.#fail(
      localReply(
        Reply.UpstreamTimeout,
        `upstream request timeout: no complete response within the route timeout of ${this.#plan.timeoutMs} ms`,
      ),
    );
  }

  #lostBody(): LocalReply {
    return localReply(
      Reply.UpstreamReset,
      `the upstream failed while the request body was streaming, and a body over ${this.#plan.replayLimit} bytes cannot be sent again`,
    );
  }

  /** Answers with a local reply (with URX after retries); the exchange is over. */
  #fail(reply: LocalReply): void {
    this.#over();
    if (this.#isCommitted) this.#down.reset();
    else this.#down.reply(this.#attempt === 0 ? reply : afterRetries(reply));
  }

  /** Ends the exchange; with `isFinished` false the plan's slot stays held (an upgraded relay's). */
  #over(isFinished = true): void {
    if (this.#isOver) return;
    this.#isOver = true;
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#tryTimer);
    clearTimeout(this.#routeTimer);
    this.#cancel.cancel?.();
    const up = this.#up;
    this.#up = undefined;
    up?.abort();
    if (this.#down.onDrain === this.#resumeUp) this.#down.onDrain = undefined;
    if (isFinished) this.#plan.finish();
  }
}
