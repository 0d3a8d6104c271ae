// Keepalive PINGs on a real HTTP/2 session through a TCP relay the test can silence: a peer that stops
// answering while a stream is open ends the session; an answering peer keeps it; an idle session is
// never pinged.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, connect, createServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createTcpServer, connect as netConnect, type Socket } from 'node:net';
import { test } from 'node:test';
import { keepAlive } from './h2-keepalive.ts';

const SETTINGS = { intervalMs: 100, timeoutMs: 150 };

interface Peer {
  session: ClientHttp2Session;
  /** PINGs the server side received. */
  pings: () => number;
  /** Settles when the server side receives its first PING. */
  firstPing: Promise<void>;
  /** Stops the relay reading either way: the peer is there but nothing reaches it or comes back. */
  silence: () => void;
  close: () => void;
}

async function peer(): Promise<Peer> {
  let pings = 0;
  let pinged: () => void = () => undefined;
  const firstPing = new Promise<void>((resolve) => {
    pinged = resolve;
  });
  const server = createServer();
  server.on('session', (s: ServerHttp2Session) =>
    s.on('ping', () => {
      pings++;
      pinged();
    }),
  );
  server.on('stream', () => undefined); // streams stay open: a call still waiting for its answer
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sockets: Socket[] = [];
  const relay = createTcpServer((down) => {
    const up = netConnect((server.address() as { port: number }).port, '127.0.0.1');
    sockets.push(down, up);
    for (const s of [down, up]) s.on('error', () => undefined);
    down.pipe(up);
    up.pipe(down);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const session = connect(`http://127.0.0.1:${(relay.address() as { port: number }).port}`);
  session.on('error', () => undefined);
  await once(session, 'connect');
  return {
    session,
    pings: () => pings,
    firstPing,
    silence: () => {
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    close: () => {
      session.destroy();
      for (const s of sockets) s.destroy();
      relay.close();
      server.close();
    },
  };
}

/** Resolves true when `session` closes within `ms`, false otherwise. */
function closesWithin(session: ClientHttp2Session, ms: number): Promise<boolean> {
  if (session.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    session.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const cases = [
  {
    name: 'a peer that stops answering while a stream is open',
    hasStream: true,
    silent: true,
    wantClosed: true,
  },
  { name: 'a peer that answers, with a stream open', hasStream: true, silent: false, wantClosed: false },
  {
    name: 'a silent peer with no stream open (not pinged)',
    hasStream: false,
    silent: true,
    wantClosed: false,
  },
];

for (const c of cases) {
  test(`h2 keepalive: ${c.name} ${c.wantClosed ? 'ends the session' : 'keeps the session'}`, async (t) => {
    const p = await peer();
    t.after(() => p.close());
    keepAlive(p.session, SETTINGS);
    if (c.hasStream) p.session.request({ ':path': '/wait' }).on('error', () => undefined);
    // Let the first PING through before silencing, so a live session is seen answering.
    if (c.hasStream) await p.firstPing;
    if (c.silent) p.silence();
    const window = SETTINGS.intervalMs * 3 + SETTINGS.timeoutMs;
    const closed = await closesWithin(p.session, window);
    assert.equal(closed, c.wantClosed, `want the session ${c.wantClosed ? 'closed' : 'open'} ${window}ms on`);
    if (!c.hasStream) assert.equal(p.pings(), 0, 'want no PING on a session with no open stream');
  });
}
