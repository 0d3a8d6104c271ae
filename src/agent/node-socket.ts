// The node proxy's local socket: how `alder run` on the same host hands its workload to the node
// proxy and takes it back. A unix socket in a directory only the node's user can enter (0700, the
// socket 0600), one JSON object per line each way, one workload per connection:
//
//   run  → node   {"join": {...}}          node → run  {"ready": {...}} | {"error": {...}}
//   run  → node   {"drain": {"graceMs"}}   node → run  {"drained": {...}}
//   run  → node   {"leave": {}}            node → run  {"left": {}}, then it closes
//
// A connection that closes before `leave` (alder run was killed) takes its workload with it.

import { mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunRegistration } from '../wire/index.ts';
import { LineReader } from '../wire/stream.ts';

/** Largest line either side accepts: a join is well under 16 KiB. */
export const MAX_NODE_LINE_BYTES = 64 * 1024;

export interface NodeJoin {
  run: RunRegistration;
  address: string;
  labels?: Record<string, string>;
  appAddress?: string;
  /** A join token; not needed when the node holds a valid certificate for this workload. */
  token?: string;
}

export interface NodeReady {
  workload: { namespace: string; name: string };
  spiffeId: string;
  /** The app's HTTP_PROXY, credentials included. */
  httpProxy: string;
  upstreams: { service: string; port: number; address: string; localPort: number }[];
}

export interface NodeDrained {
  /** Callers' proxies that acknowledged the workload's leaving, and those that had not in time. */
  synced: number;
  pending: string[];
  inboundMs: number;
}

export type RunMessage =
  | { join: NodeJoin }
  | { drain: { graceMs: number } }
  | { leave: Record<string, never> };
export type NodeMessage =
  | { ready: NodeReady }
  | { drained: NodeDrained }
  | { left: Record<string, never> }
  | { error: { code: string; message: string; hint?: string } };

/**
 * Where the node proxy listens by default: $ALDER_NODE_SOCKET, else node.sock in
 * $XDG_RUNTIME_DIR/alder, else in /tmp/alder-UID (a folder of the user's own).
 */
export function defaultNodeSocket(env: Record<string, string | undefined>): string {
  if (env.ALDER_NODE_SOCKET) return env.ALDER_NODE_SOCKET;
  const base = env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'alder')
    : join(tmpdir(), `alder-${process.getuid?.() ?? 'user'}`);
  return join(base, 'node.sock');
}

/** Makes the socket's folder, readable by its owner only. */
export function ensureSocketDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
}

/** Reads one JSON object per line from `socket`, calling `onMessage`; a line past the bound closes it. */
export function readLines(socket: Socket, onMessage: (m: Record<string, unknown>) => void): void {
  const reader = new LineReader(MAX_NODE_LINE_BYTES);
  socket.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const line of lines) {
      if (line === '') continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      if (typeof m === 'object' && m !== null && !Array.isArray(m)) onMessage(m as Record<string, unknown>);
      else socket.destroy();
    }
  });
}

export function send(socket: Socket, message: RunMessage | NodeMessage): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

/** `alder run`'s end: a connection to the node proxy, with one answer awaited at a time. */
export class NodeClient {
  readonly #socket: Socket;
  #waiting: ((m: NodeMessage) => void) | undefined;
  #isClosed = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('error', () => socket.destroy()); // EPIPE and the like: 'close' follows, and says it
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        resolve();
      }),
    );
    readLines(socket, (m) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.(m as NodeMessage);
    });
    void this.closed.then(() => {
      this.#waiting?.({
        error: { code: 'ALDER_SERVER_UNREACHABLE', message: 'the node proxy closed the connection' },
      });
      this.#waiting = undefined;
    });
  }

  /** Connects, or resolves undefined when no node proxy listens at `path`. */
  static connect(path: string, timeoutMs = 2000): Promise<NodeClient | undefined> {
    return new Promise((resolve) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(undefined);
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new NodeClient(socket));
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** Sends `message` and resolves with the answer, or an error after `timeoutMs`. */
  ask(message: RunMessage, timeoutMs: number): Promise<NodeMessage> {
    if (this.#isClosed) {
      // The node proxy is gone (it stopped first): nothing to wait for.
      return Promise.resolve({
        error: { code: 'ALDER_SERVER_UNREACHABLE', message: 'the node proxy closed the connection' },
      });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        resolve({
          error: {
            code: 'ALDER_SERVER_UNREACHABLE',
            message: `the node proxy did not answer within ${timeoutMs / 1000}s`,
          },
        });
      }, timeoutMs);
      this.#waiting = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      send(this.#socket, message);
    });
  }

  close(): void {
    this.#socket.end();
  }
}
