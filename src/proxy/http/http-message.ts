// HTTP messages as the proxy's pipeline passes them, whatever the protocol on either side: the codec
// adapters (HTTP/1 connection manager, HTTP/2 streams, upstream pools) turn their wire form into
// these and back. Headers are flat `[name, value, …]` lists with lower-case names, without
// pseudo-headers, hop-by-hop fields or framing (Content-Length, Transfer-Encoding).

import type { WireProtocol } from '../../wire/index.ts';

/**
 * How a message's body is delimited, as HTTP/1 says it: none, a length, chunks (or, for HTTP/2, a
 * stream of DATA frames whose length was not announced), or a response that runs until the close.
 */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A request as a codec hands it to the router (HTTP/1 head or HTTP/2 stream). */
export interface IncomingRequest {
  method: string;
  /** Origin form, query included (an absolute-form target is reduced to it). */
  path: string;
  /** `:authority`, or HTTP/1's Host (or absolute target's host); '' when none. */
  authority: string;
  scheme: string;
  /** As the caller sent them, hop-by-hop fields included (the router strips what must not pass). */
  headers: string[];
  framing: 'none' | 'length' | 'chunked';
  /** Content-Length when framing is 'length', else -1. */
  contentLength: number;
  /** HTTP/1.0 without Host needs one added; HTTP/2 carries the authority as a pseudo-header. */
  version: '1.0' | '1.1' | '2';
  /**
   * The protocol the caller asks to switch to (`websocket`): HTTP/1.1's `Upgrade` with `Connection:
   * upgrade`, or an HTTP/2 extended CONNECT's `:protocol` (RFC 8441), whose method is then written
   * `GET` as HTTP/1 writes a WebSocket handshake (Envoy's H2→H1 form). The Upgrade and Connection
   * fields themselves are not in `headers`: each codec writes its own form.
   */
  upgrade?: string;
}

/** A request as the proxy sends it upstream (after routing, rewrites and header edits). */
export interface OutgoingRequest {
  method: string;
  /** Origin form, query included: `/reviews/1?x=y`. */
  path: string;
  authority: string;
  scheme: string;
  headers: string[];
  framing: 'none' | 'length' | 'chunked';
  /** Content-Length when framing is 'length', else -1. */
  contentLength: number;
  /**
   * The protocol to switch to (IncomingRequest.upgrade): HTTP/1 upstreams get `Upgrade` and
   * `Connection: upgrade`, HTTP/2 upstreams an extended CONNECT. What follows an accepted switch is
   * no body: it passes through the tunnel UpstreamEvents.onUpgrade hands over.
   */
  upgrade?: string;
  /**
   * The upgrade came as HTTP/2 extended CONNECT, which has no Sec-WebSocket-Key (RFC 8441 §5): an
   * HTTP/1 upstream gets one of the proxy's making (an HTTP/1 caller's own key, or its lack, is left as sent).
   */
  isExtendedConnect?: boolean;
}

/** A response head from upstream, on its way to the caller. */
export interface ResponseHead {
  status: number;
  /** The reason phrase an HTTP/1 upstream sent ('' otherwise). */
  statusText: string;
  headers: string[];
  /** 'none': the response ends with its head (no body, no trailers). */
  framing: BodyFraming;
  contentLength: number;
  /** A 1xx other than 101: the final response for the same request follows. */
  isInterim: boolean;
  /** The grpc-status in the head (a Trailers-Only gRPC response), for retry policies. */
  grpcStatus: number | undefined;
}

/** HTTP2 and GRPC ports speak HTTP/2 to their app and between proxies. */
export function isH2Protocol(protocol: WireProtocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}
