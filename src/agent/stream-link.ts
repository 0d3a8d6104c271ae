// The proxy's connection to the control plane, below any workload: connects to the mesh port over
// mTLS, upgrades to `alder-stream/1`, pings, splits what comes into messages (bounded), and when the
// connection goes, reconnects with jittered exponential back-off. What is said on it (hellos,
// answers) is its owner's: StreamClient for one workload, NodeStream for a node's workloads.

import { connect, type TLSSocket } from 'node:tls';
import {
  LineReader,
  MAX_PLANE_LINE_BYTES,
  PING_INTERVAL_MS,
  PING_LINE,
  type PlaneMessage,
  STREAM_PATH,
  STREAM_PROTOCOL,
} from '../wire/index.ts';

export interface StreamLinkOptions {
  host: string;
  port: number;
  /** The client certificate, key and trust bundle (PEM), read on every connect; undefined: wait. */
  credentials(): { cert: string; key: string; ca: string } | undefined;
  /** The stream is upgraded on `socket`: say the hellos. */
  onOpen(socket: TLSSocket): void;
  /** A message from the control plane, on the socket it came on. */
  onMessage(message: PlaneMessage, socket: TLSSocket): void;
  /** The connection closed or an attempt failed (a reconnect follows). */
  onLost(why: string): void;
  /** First and longest wait between attempts (default 250 ms and 15 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection attempt, TLS handshake and upgrade answer included, gives up after this (default 10 s). */
  connectTimeoutMs?: number;
}

export class StreamLink {
  readonly #o: StreamLinkOptions;
  #socket: TLSSocket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #pinger: NodeJS.Timeout | undefined;
  #isUpgraded = false;
  #stopped = false;

  constructor(options: StreamLinkOptions) {
    this.#o = options;
  }

  start(): void {
    this.#connect();
  }

  /** The socket while the stream is upgraded, else undefined. */
  get socket(): TLSSocket | undefined {
    return this.#isUpgraded ? this.#socket : undefined;
  }

  /** Writes a line while upgraded; dropped otherwise. */
  send(line: string): void {
    this.socket?.write(line);
  }

  /** Stops reconnecting and closes, after writing `lastLine` (a goodbye) if upgraded (1 s at most). */
  async stop(lastLine?: string): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#pinger);
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    if (lastLine !== undefined && this.#isUpgraded) {
      await new Promise<void>((resolve) => {
        const done = setTimeout(resolve, 1000);
        socket.end(lastLine, () => {
          clearTimeout(done);
          resolve();
        });
      });
    }
    socket.destroy();
  }

  #connect(): void {
    if (this.#stopped) return;
    const creds = this.#o.credentials();
    if (creds === undefined) {
      this.#retry();
      return;
    }
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
        this.#isUpgraded = true;
        clearInterval(this.#pinger);
        this.#pinger = setInterval(() => socket.write(PING_LINE), PING_INTERVAL_MS);
        this.#o.onOpen(socket);
      }
      let got: string[];
      try {
        got = lines.push(rest);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const line of got) {
        if (line === '' || socket.destroyed) continue;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          socket.destroy(new Error('the control plane sent a line that is not JSON'));
          return;
        }
        if (typeof message !== 'object' || message === null) {
          socket.destroy(new Error('the control plane sent a line that is not a JSON object'));
          return;
        }
        this.#o.onMessage(message as PlaneMessage, socket);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timeout);
      const wasCurrent = this.#socket === socket;
      if (wasCurrent) {
        clearInterval(this.#pinger);
        this.#isUpgraded = false;
        this.#socket = undefined;
      }
      if (this.#stopped) return;
      this.#o.onLost((socket.errored as Error | null)?.message ?? 'stream closed');
      this.#retry();
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
