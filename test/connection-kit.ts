// Clients that misbehave on purpose, for the tests of the proxy's connection bounds: a socket that
// sends a few bytes and waits (a stalled handshake or head), one that trickles a head a byte at a
// time, an h2c client whose socket the test can drop, a timed GET through the forward proxy, and the
// two-workload mesh (client → web) most of these tests run. Every wait has a deadline.

import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { type ClientHttp2Session, connect as h2Connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { listenOnLoopback } from './harness.ts';
import { clientWebYaml } from './mesh-yaml.ts';

export interface HeldSocket {
  socket: Socket;
  /** Everything the other side sent, as latin1. */
  reply(): string;
  /** Milliseconds from connect to the other side closing; rejects after `deadlineMs` (the socket is destroyed). */
  closed(deadlineMs: number): Promise<number>;
}

/** Connects, sends `bytes` (if any) and keeps the socket open without half-closing. */
export async function holdOpen(host: string, port: number, bytes?: Buffer | string): Promise<HeldSocket> {
  const socket = connect({ host, port });
  let reply = '';
  let closedAt: number | undefined;
  socket.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  socket.once('close', () => {
    closedAt ??= performance.now();
  });
  // The other side ending its half is its close, for a client that will send nothing more.
  socket.once('end', () => {
    closedAt ??= performance.now();
    socket.destroy();
  });
  await once(socket, 'connect');
  const start = performance.now();
  if (bytes !== undefined) socket.write(bytes);
  return {
    socket,
    reply: () => reply,
    closed: (deadlineMs) => {
      if (closedAt !== undefined) return Promise.resolve(closedAt - start);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy();
          reject(
            new Error(
              `${host}:${port}: want the proxy to close the connection within ${deadlineMs}ms, still open`,
            ),
          );
        }, deadlineMs);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve((closedAt ?? performance.now()) - start);
        });
      });
    },
  };
}

/** Sends `text` one byte every `everyMs` until it is sent or the other side closes. */
export async function trickle(
  host: string,
  port: number,
  text: string,
  everyMs: number,
): Promise<HeldSocket> {
  const held = await holdOpen(host, port);
  let at = 0;
  const timer = setInterval(() => {
    if (held.socket.destroyed || at >= text.length) {
      clearInterval(timer);
      return;
    }
    held.socket.write(text.slice(at, at + 1), 'latin1');
    at++;
  }, everyMs);
  held.socket.once('close', () => clearInterval(timer));
  return held;
}

/** Connects, sends one TLS record-type byte (0x16), half-closes and lets go of the socket. */
export async function oneByteAndClose(host: string, port: number): Promise<void> {
  const socket = connect({ host, port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  await new Promise<void>((resolve) => socket.end(Buffer.from([0x16]), resolve));
  socket.destroy();
}

/** The first bytes of a TLS ClientHello: a record header and a handshake header promising more. */
export const PARTIAL_CLIENT_HELLO = Buffer.from([
  0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
]);

/** GET `http://authority/path` through a forward proxy (HTTP_PROXY); status, body and milliseconds taken. */
export function getVia(
  proxy: string,
  authority: string,
  path: string,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string; ms: number }> {
  const [host, port] = proxy.split(':') as [string, string];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path: `http://${authority}${path}`,
        headers: { host: authority },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - start }));
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer from ${proxy} for ${authority}${path} within ${timeoutMs}ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** Runs `task` for 0..count-1, at most `width` at a time. */
export async function inWaves<T>(
  count: number,
  width: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let from = 0; from < count; from += width) {
    const wave = Array.from({ length: Math.min(width, count - from) }, (_, k) => task(from + k));
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

/** An h2c session to `host:port` over a socket the test holds, to drop it without GOAWAY. */
export function h2cClient(host: string, port: number): { session: ClientHttp2Session; socket: Socket } {
  const socket = connect({ host, port });
  const session = h2Connect(`http://${host}:${port}`, { createConnection: () => socket });
  session.on('error', () => undefined);
  return { session, socket };
}

/** An HTTP app answering every request 200 `ok`, not yet listening (see TestBed.listen). */
export function okServer(): Server {
  return createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
}

/** okServer, on a loopback port. */
export async function okApp(): Promise<{ server: Server; port: number }> {
  const server = okServer();
  return { server, port: await listenOnLoopback(server) };
}

/** The mesh of two workloads: `client` at `client`, and `web` at `web` serving HTTP on 8080 from `appPort`. */
export function clientWebMesh(addresses: { client: string; web: string }, appPort: number): string {
  return clientWebYaml({ ...addresses, appPort });
}
