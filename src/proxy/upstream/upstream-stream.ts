// One request's exchange with one upstream endpoint, the same for every protocol: an HTTP/1 pooled
// connection (direct or in an HBONE tunnel) or an HTTP/2 stream. The router writes the request body
// and reads the response through it; the pools own the connections underneath.

import type { Duplex } from 'node:stream';
import type { ResponseHead } from '../http/index.ts';

/** How the upstream ended a stream before its response was complete. */
export interface UpstreamFailure {
  /** refused-stream: the upstream refused the stream before processing it (safe to retry). */
  kind: 'reset' | 'refused-stream' | 'protocol-error';
  message: string;
  /** The HTTP/2 error code of an upstream RST_STREAM, passed on to an HTTP/2 caller. */
  h2Code?: number;
}

/** What the router hears from the upstream; at most one of onEnd / onFailure / onUpgrade ends the stream. */
export interface UpstreamEvents {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onEnd(trailers: string[] | null): void;
  onFailure(failure: UpstreamFailure): void;
  /**
   * The upstream accepted the request's upgrade (an HTTP/1 101, an HTTP/2 2xx to extended CONNECT):
   * `head` without Upgrade / Connection fields, and `tunnel`, the upstream's byte stream from the
   * first byte after the switch. The callee owns `tunnel` from here (it never returns to a pool).
   */
  onUpgrade(head: ResponseHead, tunnel: Duplex): void;
}

export interface UpstreamStream {
  /** Set by the router before it writes; the stream calls them until it is released or aborted. */
  events: UpstreamEvents | undefined;
  /** Called when a write that returned false has drained. */
  onDrain: (() => void) | undefined;
  /** Sends request body bytes; false when the router should wait for onDrain. */
  write(chunk: Buffer): boolean;
  /** The request is complete (with trailers, for a chunked or HTTP/2 body). */
  end(trailers: string[] | null): void;
  /** Stops or restarts reading the response (backpressure towards the caller). */
  pause(): void;
  resume(): void;
  /** The exchange is done: a clean one (request sent, response complete) may go back to its pool. */
  release(isClean: boolean): void;
  /** Cuts the stream (and an HTTP/1 connection): the upstream sees a reset, never a complete request. */
  abort(): void;
}
