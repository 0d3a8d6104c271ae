// Transport (a): HTTP/1.1 over a pool of keep-alive mTLS connections, one request per connection at a
// time, the pool growing to the concurrency asked of it. This is what the proxy does today
// (src/proxy/upstream/http1-pool.ts): reused, never multiplexed or pipelined.

import type { TLSSocket } from 'node:tls';
import { encodeRequest, MessageReader } from './h1-framing.ts';
import { type ConnectOptions, connectMtls } from './mtls.ts';
import type { Done, Transport } from './transport.ts';

/** A bound on the pool, far above what the benchmark's concurrency needs. */
const MAX_CONNECTIONS = 512;

class PooledConnection {
  readonly socket: TLSSocket;
  readonly reader: MessageReader;
  /** The exchange waiting for this connection's next answer. */
  current: Done | undefined;

  constructor(socket: TLSSocket, onAnswer: (conn: PooledConnection, status: number) => void) {
    this.socket = socket;
    this.reader = new MessageReader(true, (status) => onAnswer(this, status));
  }
}

export class H1Pool implements Transport {
  readonly #connect: Omit<ConnectOptions, 'alpn'>;
  readonly #idle: PooledConnection[] = [];
  readonly #all = new Set<PooledConnection>();
  /** Requests waiting for a connection: number and callback. */
  readonly #waiting: Array<[number, Done]> = [];
  #opening = 0;
  #isClosed = false;

  constructor(connect: Omit<ConnectOptions, 'alpn'>) {
    this.#connect = connect;
  }

  send(n: number, done: Done): void {
    const conn = this.#idle.pop();
    if (conn !== undefined) {
      this.#exchange(conn, n, done);
      return;
    }
    this.#waiting.push([n, done]);
    if (this.#all.size + this.#opening < MAX_CONNECTIONS && this.#opening < this.#waiting.length)
      this.#grow();
  }

  close(): void {
    this.#isClosed = true;
    for (const conn of this.#all) conn.socket.destroy();
    for (const [, done] of this.#waiting.splice(0)) done(false);
  }

  #exchange(conn: PooledConnection, n: number, done: Done): void {
    conn.current = done;
    conn.socket.write(encodeRequest(n));
  }

  #grow(): void {
    this.#opening++;
    connectMtls({ ...this.#connect, alpn: 'http/1.1' }).then(
      (socket) => {
        this.#opening--;
        if (this.#isClosed) {
          socket.destroy();
          return;
        }
        const conn = new PooledConnection(socket, (c, status) => this.#answered(c, status));
        this.#all.add(conn);
        socket.on('data', (chunk: Buffer) => {
          conn.reader.feed(chunk);
          if (conn.reader.isBroken) socket.destroy();
        });
        socket.on('error', () => socket.destroy());
        socket.on('close', () => this.#lost(conn));
        this.#release(conn);
      },
      () => {
        this.#opening--;
        this.#waiting.shift()?.[1](false);
      },
    );
  }

  #answered(conn: PooledConnection, status: number): void {
    const done = conn.current;
    conn.current = undefined;
    this.#release(conn);
    done?.(status === 200);
  }

  /** Hands a free connection to the oldest waiting request, or parks it idle. */
  #release(conn: PooledConnection): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#idle.push(conn);
    else this.#exchange(conn, next[0], next[1]);
  }

  #lost(conn: PooledConnection): void {
    this.#all.delete(conn);
    const at = this.#idle.indexOf(conn);
    if (at !== -1) this.#idle.splice(at, 1);
    const done = conn.current;
    conn.current = undefined;
    done?.(false);
  }
}
