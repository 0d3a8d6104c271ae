// The ratings app's client for the kv store: one persistent TCP connection speaking RESP2, commands
// pipelined on it and answered in order, a timeout per command, and a fresh connection after any
// failure (a timed-out command leaves the stream's order unknown, so its connection is dropped).

import { connect as netConnect, type Socket } from 'node:net';
import { CallError, callError } from './call-error.ts';
import type { HostPort } from './mesh-client.ts';
import { encodeCommand, parseValue, RespErrorReply, type RespLimits, type RespValue } from './resp.ts';

const LIMITS: RespLimits = {
  maxBulkBytes: 1024 * 1024,
  maxArrayItems: 100_000,
  maxLineBytes: 64 * 1024,
  maxDepth: 4,
};
const MAX_PENDING = 1000;

interface Pending {
  resolve: (v: RespValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One connection and the commands waiting on it, in the order they were sent. */
interface Connection {
  socket: Socket;
  pending: Pending[];
  buffer: Buffer;
}

export class KvClient {
  readonly address: HostPort;
  #where: string;
  #connection: Connection | undefined;
  #connecting: Promise<Connection> | undefined;

  constructor(address: HostPort) {
    this.address = address;
    this.#where = `kv store ${address.host}:${address.port}`;
  }

  /** Sends one command; resolves with its reply, rejects with a CallError (an error reply is one too). */
  async command(args: readonly string[], timeoutMs: number): Promise<RespValue> {
    const deadline = Date.now() + timeoutMs;
    const connection = await this.#connected(timeoutMs);
    if (connection.pending.length >= MAX_PENDING) {
      throw new CallError('OVERLOADED', `${this.#where}: ${MAX_PENDING} commands already waiting`);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          // The reply may still come, out of turn for the next command: start over on a new connection.
          const error = new CallError(
            'TIMEOUT',
            `${this.#where}: no reply to ${args[0]} within ${timeoutMs}ms`,
          );
          connection.socket.destroy(error);
        },
        Math.max(1, deadline - Date.now()),
      );
      connection.pending.push({ resolve, reject, timer });
      connection.socket.write(encodeCommand(args));
    });
  }

  /** Ends the connection (the store answers what was sent first) and waits for it to close. */
  async close(): Promise<void> {
    const socket = this.#connection?.socket;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }

  destroy(): void {
    this.#connection?.socket.destroy();
  }

  #connected(timeoutMs: number): Promise<Connection> {
    const current = this.#connection;
    if (current !== undefined && !current.socket.destroyed && current.socket.writable) {
      return Promise.resolve(current);
    }
    this.#connecting ??= this.#connect(timeoutMs).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #connect(timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: this.address.host, port: this.address.port, noDelay: true });
      const connection: Connection = { socket, pending: [], buffer: Buffer.alloc(0) };
      const timer = setTimeout(
        () => socket.destroy(new CallError('TIMEOUT', `${this.#where}: no connection within ${timeoutMs}ms`)),
        timeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        this.#connection = connection;
        resolve(connection);
      });
      socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
      socket.on('error', (e) => {
        clearTimeout(timer);
        const error = callError(e, this.#where);
        reject(error);
        failAll(connection, error);
      });
      socket.on('close', () => {
        if (this.#connection === connection) this.#connection = undefined;
        failAll(connection, new CallError('ECONNRESET', `${this.#where}: connection closed`));
      });
    });
  }

  #onData(connection: Connection, chunk: Buffer): void {
    const c = connection;
    c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk]);
    let at = 0;
    try {
      for (;;) {
        if (at >= c.buffer.length) break;
        const parsed = parseValue(c.buffer, at, LIMITS);
        if (parsed === undefined) break;
        at = parsed.end;
        const waiter = c.pending.shift();
        if (waiter === undefined) throw new Error('a reply nobody asked for');
        clearTimeout(waiter.timer);
        if (parsed.value instanceof RespErrorReply) {
          waiter.reject(new CallError('KV_ERROR', `${this.#where}: ${parsed.value.message}`));
        } else waiter.resolve(parsed.value);
      }
      c.buffer = c.buffer.subarray(at);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      c.socket.destroy(new CallError('BAD_ANSWER', `${this.#where}: ${message}`));
    }
  }
}

function failAll(connection: Connection, error: Error): void {
  const waiting = connection.pending;
  connection.pending = [];
  for (const w of waiting) {
    clearTimeout(w.timer);
    w.reject(error);
  }
}
