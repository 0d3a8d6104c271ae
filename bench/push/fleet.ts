// Simulated proxies, many per process: each speaks the real stream as src/agent/stream-client.ts
// does (mTLS with its service account's certificate, HTTP/1.1 upgrade to alder-stream/1, hello,
// a ping every 2 s, an ACK for every push once parsed) and records per push when it came, its
// revision and its size. Started by run.ts; answers over IPC (see ipc.ts).

import { readFileSync } from 'node:fs';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import {
  encodeMessage,
  LineReader,
  MAX_PLANE_LINE_BYTES,
  PING_INTERVAL_MS,
  PING_LINE,
  type PlaneMessage,
  STREAM_PATH,
  STREAM_PROTOCOL,
  WIRE_VERSION,
} from '../../src/wire/index.ts';
import { nowMs, serve } from './ipc.ts';

const PING = PING_LINE;
/** Pushes a proxy remembers between marks; a burst of 100 writes needs far fewer. */
const MAX_RECORDED_PUSHES = 1000;

export interface SimProxySpec {
  name: string;
  namespace: string;
  serviceAccount: string;
}

interface PushRecord {
  ackAt: number;
  revision: number;
  bytes: number;
}

class SimProxy {
  readonly spec: SimProxySpec;
  socket: TLSSocket | undefined;
  pinger: NodeJS.Timeout | undefined;
  firstAckAt: number | undefined;
  firstPushBytes = 0;
  ackedRevision = 0;
  pushes: PushRecord[] = [];
  errors: string[] = [];

  constructor(spec: SimProxySpec) {
    this.spec = spec;
  }

  /** Resolves once upgraded and the hello is sent; rejects on a failed attempt (10 s bound). */
  connect(port: number, context: SecureContext): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, secureContext: context, servername: '' });
      this.socket = socket;
      const timeout = setTimeout(() => socket.destroy(new Error('no upgrade within 10 s')), 10_000);
      let head = '';
      let upgraded = false;
      const lines = new LineReader(MAX_PLANE_LINE_BYTES);
      socket.setNoDelay(true);
      socket.on('secureConnect', () => {
        socket.write(
          `GET ${STREAM_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        let rest = chunk;
        if (!upgraded) {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end === -1) return;
          if (!head.startsWith('HTTP/1.1 101 ')) {
            socket.destroy(new Error(`upgrade refused: ${head.slice(0, 200)}`));
            return;
          }
          upgraded = true;
          clearTimeout(timeout);
          rest = Buffer.from(head.slice(end + 4), 'latin1');
          const { name, namespace } = this.spec;
          socket.write(
            encodeMessage({
              hello: {
                workload: { namespace, name },
                known: {},
                wireVersion: WIRE_VERSION,
                agent: 'alder-bench/0.1.0',
                outboundProxy: { address: '127.0.0.1', port: 15001 },
              },
            }),
          );
          this.pinger = setInterval(() => socket.write(PING), PING_INTERVAL_MS);
          resolve();
        }
        for (const line of lines.push(rest)) if (line !== '') this.#onLine(socket, line);
      });
      socket.on('error', (err) => {
        this.errors.push(err.message);
        reject(err);
      });
      socket.on('close', () => {
        clearTimeout(timeout);
        clearInterval(this.pinger);
        if (upgraded) this.errors.push('stream closed');
        reject(new Error('closed before the upgrade'));
      });
    });
  }

  #onLine(socket: TLSSocket, line: string): void {
    const message = JSON.parse(line) as PlaneMessage;
    if ('error' in message) {
      this.errors.push(`${message.error.code}: ${message.error.message}`);
      return;
    }
    if (!('push' in message)) return;
    const push = message.push;
    socket.write(encodeMessage({ ack: { workload: push.workload, nonce: push.nonce } }));
    const ackAt = nowMs();
    if (this.firstAckAt === undefined) {
      this.firstAckAt = ackAt;
      this.firstPushBytes = Buffer.byteLength(line) + 1;
    }
    const revision = Number(push.revision);
    if (revision > this.ackedRevision) this.ackedRevision = revision;
    if (this.pushes.length < MAX_RECORDED_PUSHES)
      this.pushes.push({ ackAt, revision, bytes: Buffer.byteLength(line) + 1 });
  }
}

const contexts = new Map<string, SecureContext>();
let proxies: SimProxy[] = [];
let lastPushCount = 0;

function pushCount(): number {
  let n = 0;
  for (const p of proxies) n += p.pushes.length;
  return n;
}

/** Polls every 20 ms until `isDone`, or fails after `timeoutMs` with `what`. */
function until(what: () => string, isDone: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (isDone()) return resolve();
      if (nowMs() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms: ${what()}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

serve({
  /** Connects every proxy, at most `concurrency` handshakes at a time, each retried up to 3 times. */
  async connect(args) {
    const certs = args.certs as Record<string, { cert: string; key: string; ca: string }>;
    for (const [sa, c] of Object.entries(certs)) {
      contexts.set(
        sa,
        createSecureContext({
          cert: readFileSync(c.cert),
          key: readFileSync(c.key),
          ca: readFileSync(c.ca),
          minVersion: 'TLSv1.3',
        }),
      );
    }
    proxies = (args.proxies as SimProxySpec[]).map((s) => new SimProxy(s));
    const port = Number(args.port);
    const concurrency = Number(args.concurrency);
    const started = nowMs();
    let next = 0;
    let retries = 0;
    const worker = async () => {
      while (next < proxies.length) {
        const p = proxies[next++] as SimProxy;
        const context = contexts.get(p.spec.serviceAccount);
        if (context === undefined) throw new Error(`no certificate for ${p.spec.serviceAccount}`);
        for (let attempt = 1; ; attempt++) {
          try {
            await p.connect(port, context);
            break;
          } catch (err) {
            if (attempt >= 3) throw new Error(`${p.spec.name}: ${(err as Error).message}`);
            retries++;
            await new Promise((r) => setTimeout(r, 200 * attempt));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, proxies.length) }, worker));
    return { connectMs: nowMs() - started, retries };
  },
  /** Waits until every proxy has ACKed its first push. */
  async firstAcks(args) {
    await until(
      () => `${proxies.filter((p) => p.firstAckAt === undefined).length} proxies without a first push`,
      () => proxies.every((p) => p.firstAckAt !== undefined),
      Number(args.timeoutMs),
    );
    return {
      lastFirstAckAt: Math.max(...proxies.map((p) => p.firstAckAt ?? 0)),
      firstPushBytes: proxies.map((p) => p.firstPushBytes),
    };
  },
  /** Forgets recorded pushes: what comes next belongs to the change about to be written. */
  mark() {
    for (const p of proxies) p.pushes = [];
    lastPushCount = 0;
    return {};
  },
  /**
   * Waits until every proxy has ACKed a push of `revision` or later and no push has come for
   * `quietMs`; answers per proxy the ms from `writtenAt` to that ACK, and the pushes and bytes
   * received since the mark.
   */
  async settle(args) {
    const revision = Number(args.revision);
    const quietMs = Number(args.quietMs);
    let quietSince = nowMs();
    await until(
      () =>
        `${proxies.filter((p) => p.ackedRevision < revision).length} proxies short of revision ${revision}; errors seen: ${JSON.stringify([...new Set(proxies.flatMap((p) => p.errors))].slice(0, 5))}`,
      () => {
        const n = pushCount();
        if (n !== lastPushCount) {
          lastPushCount = n;
          quietSince = nowMs();
        }
        return proxies.every((p) => p.ackedRevision >= revision) && nowMs() - quietSince >= quietMs;
      },
      Number(args.timeoutMs),
    );
    const writtenAt = Number(args.writtenAt);
    return {
      latencyMs: proxies.map((p) => (p.pushes.find((r) => r.revision >= revision)?.ackAt ?? NaN) - writtenAt),
      bytes: proxies.map((p) => p.pushes.reduce((s, r) => s + r.bytes, 0)),
      pushes: proxies.map((p) => p.pushes.length),
      errors: proxies.flatMap((p) => p.errors).slice(0, 10),
    };
  },
  close() {
    for (const p of proxies) {
      clearInterval(p.pinger);
      p.socket?.destroy();
    }
    setImmediate(() => process.exit(0));
    return {};
  },
});
