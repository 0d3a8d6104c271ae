// Mirroring: a copy of a request sent to another cluster, fire and forget. The copy's Host has
// `-shadow` appended (Envoy's rule); its response is read and dropped; it never holds up or changes
// the original exchange: bytes that arrive before the mirror's connection is up are buffered up to a
// cap, and a mirror that falls further behind, fails or runs past its deadline is simply dropped.

import { encodeChunk, lastChunk, type RequestHead, serializeRequestHead } from '../http1/index.ts';
import { ProxyError } from '../local-reply/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { UpstreamConnection } from '../upstream/index.ts';
import { pickEndpoint } from '../upstream/index.ts';
import type { Mirror } from './outbound-route.ts';

/** What the connection manager feeds a mirror as the original request's body arrives. */
export interface Shadow {
  body(chunk: Buffer): void;
  end(trailers: string[] | null): void;
  /** The original request failed mid-way: the copy must not complete either. */
  abort(): void;
}

/** A mirror holds at most this much unsent body before it gives up. */
const MAX_BUFFERED = 1024 * 1024;
/** A mirror's whole exchange must finish within this long. */
const SHADOW_DEADLINE_MS = 30_000;

export function startShadow(
  mirror: Mirror,
  head: RequestHead,
  target: string,
  headers: readonly string[],
  runtime: Runtime,
): Shadow {
  const cr = mirror.cluster;
  const isChunked = head.framing === 'chunked';
  const framing =
    head.framing === 'length'
      ? ['content-length', String(head.contentLength)]
      : isChunked
        ? ['transfer-encoding', 'chunked']
        : [];
  const shadowHeaders: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'host') shadowHeaders.push(headers[k] as string, headers[k + 1] as string);
  }
  shadowHeaders.push('host', mirror.authority, ...framing);
  let conn: UpstreamConnection | undefined;
  let pending: (Buffer | string)[] | undefined = [serializeRequestHead(head.method, target, shadowHeaders)];
  let buffered = 0;
  let isDead = false;
  const timer = setTimeout(() => kill(), SHADOW_DEADLINE_MS).unref();
  const kill = () => {
    isDead = true;
    pending = undefined;
    clearTimeout(timer);
    if (conn !== undefined) {
      conn.handler = undefined;
      conn.onClose = undefined;
      conn.socket.destroy();
    }
  };
  const send = (data: Buffer | string) => {
    if (isDead) return;
    if (conn === undefined) {
      buffered += data.length;
      if (buffered > MAX_BUFFERED) kill();
      else pending?.push(data);
      return;
    }
    conn.socket.write(data);
    if (conn.socket.writableLength > MAX_BUFFERED) kill();
  };
  const endpoint = pickEndpoint(cr, mirror.authority);
  if (endpoint instanceof ProxyError) kill();
  else {
    const tls = cr.cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined;
    runtime.pools.acquire(endpoint, tls, cr.cluster.connectTimeoutMs, cr.breaker).then(
      (c) => {
        if (isDead) {
          c.socket.destroy();
          return;
        }
        conn = c;
        c.parser.expectResponseTo(head.method);
        c.handler = {
          onHead: () => undefined,
          onBody: () => undefined,
          onEnd: () => {
            clearTimeout(timer);
            isDead = true;
            runtime.pools.release(c, true);
          },
          onError: () => kill(),
        };
        c.onClose = () => kill();
        for (const data of pending ?? []) c.socket.write(data);
        pending = undefined;
      },
      () => kill(),
    );
  }
  return {
    body: (chunk) => send(isChunked ? encodeChunk(chunk) : Buffer.from(chunk)),
    end: (trailers) => {
      if (isChunked) send(lastChunk(trailers));
    },
    abort: kill,
  };
}
