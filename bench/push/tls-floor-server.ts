// A bare node:tls server (or plain TCP) for tls-floor.ts: the mesh port's TLS settings and nothing
// of Alder's, so its memory per connection is what Node and OpenSSL cost by themselves. Answers over
// IPC (see ipc.ts); started with --expose-gc.

import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { serve } from './ipc.ts';

let server: Server | undefined;
const sockets = new Set<Socket>();
let lines = 0;

function stats() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('start the server with --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    externalBytes: m.external,
    cpuUs: cpu.user + cpu.system,
    connections: sockets.size,
    lines,
  };
}

serve({
  start(args) {
    const onSocket = (socket: Socket) => {
      sockets.add(socket);
      // As little as a stream can do: count newline-ended chunks, as a ping's arrival.
      socket.on('data', () => {
        lines++;
      });
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    };
    if (args.mode === 'tcp') {
      server = createTcpServer(onSocket);
    } else {
      const tls = args.tls as { key: string; cert: string; ca: string };
      // The mesh port's settings (src/control/push/mesh-server.ts): TLS 1.3, client certificates.
      server = createTlsServer(
        {
          key: readFileSync(tls.key),
          cert: readFileSync(tls.cert),
          ca: readFileSync(tls.ca),
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.3',
        },
        onSocket,
      );
    }
    const s = server;
    return new Promise((resolve) => {
      s.listen(0, '127.0.0.1', () => resolve({ port: (s.address() as { port: number }).port }));
    });
  },
  stats,
  cpu() {
    const cpu = process.cpuUsage();
    return { cpuUs: cpu.user + cpu.system, lines };
  },
  /**
   * Writes `bytes` to every connection as one string (as a first push is written), or in
   * `chunkBytes` pieces, each after the one before is flushed; with `inFlight` > 0, to at most that many connections at a time (the next
   * when a write is flushed), else to all at once.
   */
  async write(args) {
    const text = 'x'.repeat(Number(args.bytes) - 1) + '\n';
    const chunk = Number(args.chunkBytes);
    const inFlight = Number(args.inFlight);
    const writeTo = (s: Socket, done: () => void) => {
      if (chunk > 0) {
        // Each piece once the one before is flushed, so at most one piece waits per connection.
        const from = (at: number) => {
          if (at >= text.length) return done();
          s.write(text.slice(at, at + chunk), () => from(at + chunk));
        };
        from(0);
      } else s.write(text, done);
    };
    if (inFlight <= 0) {
      for (const s of sockets) writeTo(s, () => {});
      return {};
    }
    const queue = [...sockets];
    await new Promise<void>((resolve) => {
      let running = 0;
      const next = () => {
        while (running < inFlight && queue.length > 0) {
          running++;
          writeTo(queue.shift() as Socket, () => {
            running--;
            if (queue.length === 0 && running === 0) resolve();
            else next();
          });
        }
      };
      next();
    });
    return {};
  },
  stop() {
    for (const s of sockets) s.destroy();
    server?.close();
    setImmediate(() => process.exit(0));
    return {};
  },
});
