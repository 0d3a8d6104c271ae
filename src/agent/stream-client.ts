// The proxy's end of the stream: connects to the control plane's mesh port over mTLS, upgrades to
// `alder-stream/1`, says hello with what it holds, and hands each push to `onPush`, answering ACK or
// NACK with the reason. When the control plane goes away it reconnects with jittered exponential
// back-off and resumes from what it holds, so only changes come again.

import { connect, type TLSSocket } from 'node:tls';
import {
  type Drained,
  encodeMessage,
  type Hello,
  LineReader,
  MAX_PLANE_LINE_BYTES,
  PING_INTERVAL_MS,
  PING_LINE,
  type PlaneMessage,
  type Push,
  STREAM_PATH,
  STREAM_PROTOCOL,
} from '../wire/index.ts';

export interface StreamClientOptions {
  host: string;
  port: number;
  /** The proxy's certificate chain, key and the mesh's trust bundle (PEM); read on every connect. */
  credentials(): { cert: string; key: string; ca: string };
  /** The hello to send on each connect (its `known` reflects what the proxy holds now). */
  hello(): Hello;
  /** Applies a push; resolves with undefined when accepted, or the reason it was refused. */
  onPush(push: Push): Promise<string | undefined>;
  onError(message: { code: string; message: string; hint?: string }): void;
  /** The control plane's answer to a drain. */
  onDrained?(drained: Drained): void;
  onState(state: 'connected' | 'disconnected', detail: string): void;
  /** First and longest wait between attempts (default 250 ms and 15 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection attempt, TLS handshake and upgrade answer included, gives up after this (default 10 s). */
  connectTimeoutMs?: number;
}

const PING = PING_LINE;

export class StreamClient {
  readonly #o: StreamClientOptions;
  #socket: TLSSocket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #pinger: NodeJS.Timeout | undefined;
  #isUpgraded = false;
  #stopped = false;
  /** Pushes are applied one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: StreamClientOptions) {
    this.#o = options;
  }

  start(): void {
    this.#connect();
  }

  /** Says goodbye (the workload leaves callers' rotation at once), then closes. */
  async stop(workload?: { namespace: string; name: string }): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#pinger);
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    if (workload !== undefined && this.#isUpgraded) {
      await new Promise<void>((resolve) => {
        const done = setTimeout(resolve, 1000);
        socket.end(encodeMessage({ goodbye: { workload } }), () => {
          clearTimeout(done);
          resolve();
        });
      });
    }
    socket.destroy();
  }

  /** Sends a message if connected (health reports); dropped otherwise, the next hello says it again. */
  send(line: string): void {
    this.#socket?.write(line);
  }

  #connect(): void {
    if (this.#stopped) return;
    const creds = this.#o.credentials();
    const socket = connect({
      host: this.#o.host,
      port: this.#o.port,
      cert: creds.cert,
      key: creds.key,
      ca: creds.ca,
      minVersion: 'TLSv1.3',
      // The control plane's certificate is checked against the mesh's trust bundle; its name is the
      // address it was reached at, which the CA put in its SANs.
      servername: isIpLiteral(this.#o.host) ? '' : this.#o.host,
    });
    this.#socket = socket;
    let upgraded = false;
    let head = '';
    const lines = new LineReader(MAX_PLANE_LINE_BYTES);
    const timeout = setTimeout(
      () => socket.destroy(new Error('no answer from the control plane')),
      this.#o.connectTimeoutMs ?? 10_000,
    );
    socket.setNoDelay(true);
    socket.on('secureConnect', () => {
      socket.write(
        `GET ${STREAM_PATH} HTTP/1.1\r\nhost: ${this.#o.host}:${this.#o.port}\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      let rest = chunk;
      if (!upgraded) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) {
          if (head.length > 16 * 1024) socket.destroy(new Error('the control plane answered no upgrade'));
          return;
        }
        const status = head.slice(0, head.indexOf('\r\n'));
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          const body = head.slice(end + 4);
          socket.destroy(
            new Error(`the control plane refused the stream: ${status}${body ? ` ${body}` : ''}`),
          );
          return;
        }
        upgraded = true;
        clearTimeout(timeout);
        this.#attempt = 0;
        rest = Buffer.from(head.slice(end + 4), 'latin1');
        socket.setKeepAlive(true, 15_000);
        socket.write(encodeMessage({ hello: this.#o.hello() }));
        this.#isUpgraded = true;
        clearInterval(this.#pinger);
        this.#pinger = setInterval(() => socket.write(PING), PING_INTERVAL_MS);
        this.#o.onState('connected', `${this.#o.host}:${this.#o.port}`);
      }
      let got: string[];
      try {
        got = lines.push(rest);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const line of got) if (line !== '') this.#onLine(socket, line);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timeout);
      if (this.#socket === socket) {
        clearInterval(this.#pinger);
        this.#isUpgraded = false;
      }
      if (this.#socket === socket) this.#socket = undefined;
      if (this.#stopped) return;
      const why = (socket.errored as Error | null)?.message ?? 'stream closed';
      this.#o.onState('disconnected', why);
      this.#retry();
    });
  }

  #onLine(socket: TLSSocket, line: string): void {
    let message: PlaneMessage;
    try {
      message = JSON.parse(line) as PlaneMessage;
    } catch {
      socket.destroy(new Error('the control plane sent a line that is not JSON'));
      return;
    }
    if ('error' in message) {
      this.#o.onError(message.error);
      return;
    }
    if ('drained' in message) {
      this.#o.onDrained?.(message.drained);
      return;
    }
    const push = message.push;
    this.#queue = this.#queue.then(async () => {
      let refused: string | undefined;
      try {
        refused = await this.#o.onPush(push);
      } catch (err) {
        refused = (err as Error).message;
      }
      if (socket.destroyed) return;
      socket.write(
        encodeMessage(
          refused === undefined
            ? { ack: { workload: push.workload, nonce: push.nonce } }
            : { nack: { workload: push.workload, nonce: push.nonce, error: refused } },
        ),
      );
    });
  }

  #retry(): void {
    if (this.#stopped) return;
    const min = this.#o.minBackoffMs ?? 250;
    const max = this.#o.maxBackoffMs ?? 15_000;
    const ceiling = Math.min(max, min * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    // Full jitter: proxies that lost the control plane together do not return together.
    const wait = min / 2 + Math.random() * ceiling;
    this.#timer = setTimeout(() => this.#connect(), wait);
  }
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
