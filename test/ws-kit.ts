// WebSocket helpers for the upgrade tests: a ws echo app behind a plain HTTP server, an echo run of
// many messages (text and binary, some of 1 MiB) that checks every echo in order, and minimal
// RFC 6455 framing for a client that speaks WebSocket over an HTTP/2 stream (RFC 8441), where the
// ws library has no client. Every wait has a deadline.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

export interface WsApp {
  port: number;
  /** The upgrade requests' headers, as the app saw them. */
  upgrades: IncomingHttpHeaders[];
  /** The Host of each upgrade request to /flaky (each is cut at once, no answer). */
  flaky: string[];
  /** Server-side sockets still open. */
  open: Set<WebSocket>;
  /** Resolves when `n` server-side sockets have closed in all, rejects after `ms`. */
  closed(n: number, ms: number): Promise<void>;
  close(): void;
}

/**
 * An HTTP app: WebSocket echo on /ws (ws's server), a refusal on /no (403 to the upgrade, written as
 * an app without WebSocket support would), a connection cut on /flaky, and `plain <url>` to every
 * request that is no upgrade.
 */
export async function wsApp(): Promise<WsApp> {
  const upgrades: IncomingHttpHeaders[] = [];
  const flaky: string[] = [];
  const open = new Set<WebSocket>();
  let closedCount = 0;
  const onClosed: (() => void)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    res.end(`plain ${req.url}`);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (req.url === '/flaky') {
      flaky.push(req.headers.host ?? '');
      socket.destroy();
      return;
    }
    if (req.url !== '/ws') {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\ncontent-length: 22\r\nconnection: close\r\n\r\nno WebSocket here, app',
      );
      return;
    }
    upgrades.push(req.headers);
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on('error', () => undefined);
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on('close', () => {
        open.delete(ws);
        closedCount++;
        for (const f of onClosed) f();
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    upgrades,
    flaky,
    open,
    closed: (n, ms) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (closedCount < n) return;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(
          () =>
            reject(new Error(`want ${n} app-side WebSockets closed within ${ms}ms, ${closedCount} closed`)),
          ms,
        );
        onClosed.push(check);
        check();
      }),
    close: () => {
      for (const ws of open) ws.terminate();
      wss.close();
      server.close();
      server.closeAllConnections();
    },
  };
}

/** One message of an echo run: text or binary; every 250th (from the second) is 1 MiB. */
export function message(i: number): { data: Buffer; isBinary: boolean } {
  if (i % 250 === 1) return { data: randomBytes(1024 * 1024), isBinary: true };
  if (i % 2 === 0) return { data: Buffer.from(`message ${i} ${'é'.repeat(i % 300)}`), isBinary: false };
  return { data: randomBytes(1 + ((i * 37) % 4000)), isBinary: true };
}

/**
 * Sends `count` messages over an open ws client and waits for each echo, in order and byte for byte;
 * fails naming the first that differs, or how many came when `ms` ran out.
 */
export function echoMany(ws: WebSocket, count: number, ms: number): Promise<void> {
  const sent = Array.from({ length: count }, (_, i) => message(i));
  return new Promise((resolve, reject) => {
    let n = 0;
    const timer = setTimeout(() => reject(new Error(`want ${count} echoes within ${ms}ms, got ${n}`)), ms);
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      reject(new Error(why));
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const want = sent[n] as { data: Buffer; isBinary: boolean };
      if (isBinary !== want.isBinary || !data.equals(want.data)) {
        fail(
          `echo ${n}: want ${want.isBinary ? 'binary' : 'text'} of ${want.data.length} bytes back as sent, got ${isBinary ? 'binary' : 'text'} of ${data.length} bytes${data.equals(want.data) ? '' : ' that differ'}`,
        );
        return;
      }
      n++;
      if (n < count) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => fail(`want ${count} echoes, the WebSocket closed (${code}) after ${n}`));
    for (const m of sent) ws.send(m.data, { binary: m.isBinary });
  });
}

/** Resolves when `ws` is open; fails with what the server answered instead. */
export function opened(ws: WebSocket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`want the WebSocket open within ${ms}ms`)), ms);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () =>
        reject(new Error(`want 101, got ${res.statusCode} ${JSON.stringify(res.headers)}: ${body}`)),
      );
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`want the WebSocket open, got ${err.message}`));
    });
  });
}

/** Resolves when `ws` has closed; rejects after `ms`. */
export function wsClosed(ws: WebSocket, ms: number): Promise<number> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`want the WebSocket closed within ${ms}ms`)), ms);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const OP_TEXT = 1;
const OP_BINARY = 2;

/** One client frame (RFC 6455 §5.2): FIN, the opcode, a mask (clients must mask) and the payload. */
export function clientFrame(payload: Buffer, isBinary: boolean): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65536 ? 4 : 10);
  head[0] = 0x80 | (isBinary ? OP_BINARY : OP_TEXT);
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([head, mask, body]);
}

/** A frame read off the wire: its opcode and (unmasked) payload. */
export interface Frame {
  opcode: number;
  payload: Buffer;
}

/** Parses frames from a byte stream (masked or not, unfragmented), calling `onFrame` for each. */
export function frameReader(onFrame: (f: Frame) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const b1 = buf[1] as number;
      const isMasked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (isMasked) at += 4;
      if (buf.length < at + len) return;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (isMasked)
        for (let i = 0; i < len; i++) payload[i] = (payload[i] as number) ^ (buf[maskAt + (i & 3)] as number);
      onFrame({ opcode: (buf[0] as number) & 0x0f, payload });
      buf = buf.subarray(at + len);
    }
  };
}

/**
 * The echo run of echoMany over a raw byte stream that carries WebSocket (an extended CONNECT
 * stream): masked frames out, each frame back checked in order.
 */
export function echoManyRaw(stream: Duplex, count: number, ms: number): Promise<void> {
  const sent = Array.from({ length: count }, (_, i) => message(i));
  return new Promise((resolve, reject) => {
    let n = 0;
    let isDone = false;
    const timer = setTimeout(() => finish(`want ${count} echoes within ${ms}ms, got ${n}`), ms);
    const finish = (why?: string) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      stream.off('data', read);
      if (why === undefined) resolve();
      else reject(new Error(why));
    };
    const read = frameReader((f) => {
      const want = sent[n] as { data: Buffer; isBinary: boolean };
      const opcode = want.isBinary ? OP_BINARY : OP_TEXT;
      if (f.opcode !== opcode || !f.payload.equals(want.data)) {
        finish(
          `echo ${n}: want opcode ${opcode} with ${want.data.length} bytes as sent, got opcode ${f.opcode} with ${f.payload.length} bytes`,
        );
        return;
      }
      n++;
      if (n === count) finish();
    });
    stream.on('data', read);
    stream.once('close', () => finish(`want ${count} echoes, the stream closed after ${n}`));
    for (const m of sent) stream.write(clientFrame(m.data, m.isBinary));
  });
}
