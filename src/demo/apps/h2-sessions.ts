// The stop of an HTTP/2 server for app-server's shutdown: stop accepting, tell each session to go
// away once its streams are done (GOAWAY), and wait for them to close; what is left is destroyed.

import type { Http2Server, Http2Session } from 'node:http2';
import type { Part } from './app-server.ts';

/** Tracks `server`'s sessions from now on; the Part stops them. */
export function h2ServerPart(server: Http2Server): Part {
  const sessions = new Set<Http2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    drain: async () => {
      server.close();
      const closed = [...sessions].map((s) => new Promise((resolve) => s.once('close', resolve)));
      for (const s of sessions) s.close();
      await Promise.all(closed);
    },
    destroy: () => {
      for (const s of sessions) s.destroy();
    },
  };
}
