// HTTP/2 keepalive for pooled upstream sessions, as Envoy's connection_keepalive: while streams are
// open on a session it sends a PING every interval, and a PING unanswered within the timeout ends
// the session, so that its streams fail (to be retried, or answered 503 UC) instead of waiting on a
// peer that is gone without a FIN. Idle sessions are not pinged; the pool closes them.

import type { ClientHttp2Session } from 'node:http2';

export interface KeepaliveSettings {
  /** Envoy's connection_keepalive.interval: a PING this often while streams are open. */
  intervalMs: number;
  /** Envoy's connection_keepalive.timeout: no answer within this long ends the session. */
  timeoutMs: number;
}

/** Pings `session` per `settings` while it has open streams, until it closes. */
export function keepAlive(session: ClientHttp2Session, settings: KeepaliveSettings): void {
  const openStreams = countStreams(session);
  let unanswered: NodeJS.Timeout | undefined;
  const answered = () => {
    clearTimeout(unanswered);
    unanswered = undefined;
  };
  const tick = setInterval(() => {
    if (unanswered !== undefined || openStreams() === 0 || session.destroyed) return;
    unanswered = setTimeout(() => {
      session.destroy(new Error(`no answer to an HTTP/2 PING within ${settings.timeoutMs}ms`));
    }, settings.timeoutMs);
    // false: too many PINGs already unanswered, which the timer above settles.
    session.ping((err) => {
      answered();
      if (err !== null) session.destroy();
    });
  }, settings.intervalMs);
  tick.unref();
  session.once('close', () => {
    clearInterval(tick);
    answered();
  });
}

/**
 * Counts the streams open on `session`. Its callers (the HTTP/2 forwarder, the HBONE tunnels) open
 * streams with `request`, which is wrapped here once, so the count needs nothing from them.
 */
function countStreams(session: ClientHttp2Session): () => number {
  let open = 0;
  const request = session.request.bind(session);
  session.request = ((...args: Parameters<ClientHttp2Session['request']>) => {
    const stream = request(...args);
    open++;
    stream.once('close', () => open--);
    return stream;
  }) as ClientHttp2Session['request'];
  return () => open;
}
