// Keep-alive connection pools to upstream endpoints, one list of idle connections per endpoint and
// TLS identity. Each connection owns one strict response parser; the exchange using the connection
// plugs its callbacks in for the duration of one request.

import type { ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import type { CircuitBreaker, Release } from '../balance/index.ts';
import { ResponseParser, type ResponseParserCallbacks } from '../http1/index.ts';
import { ProxyError, ResponseFlag } from '../local-reply/index.ts';
import type { MeshTls } from '../tls/index.ts';
import { connectPeer, type HboneTunnels } from '../upstream/hbone.ts';

const HTTP1_ALPN = ['http/1.1'];

/** Idle pooled connections close after this long, before most servers' own keep-alive timeouts. */
const IDLE_TIMEOUT_MS = 30_000;

export class UpstreamConnection {
  /**
   * A TCP or TLS connection, or an HBONE tunnel (a CONNECT stream) to the peer proxy, which the
   * exchange drives through the same stream methods (write, cork, pause, setTimeout, destroy).
   */
  readonly socket: Socket;
  readonly parser: ResponseParser;
  readonly key: string;
  /** The exchange currently reading responses from this connection. */
  handler: ResponseParserCallbacks | undefined;
  /** Called when the connection closes while an exchange holds it. */
  onClose: (() => void) | undefined;
  /** Called when the socket can take more after a write returned false (the exchange resumes its reader). */
  onDrain: (() => void) | undefined;
  /** Gives back the cluster's connection slot when the connection closes. */
  releaseSlot: Release | undefined;
  breaker: CircuitBreaker | undefined;

  constructor(socket: Socket | TLSSocket | ClientHttp2Stream, key: string) {
    this.socket = socket as Socket;
    this.key = key;
    const forward: ResponseParserCallbacks = {
      onHead: (h) => this.handler?.onHead(h),
      onBody: (b) => this.handler?.onBody(b),
      onEnd: (t) => this.handler?.onEnd(t),
      onError: (e) => this.handler?.onError(e),
    };
    this.parser = new ResponseParser(forward);
    socket.on('data', (chunk: Buffer) => {
      let i = 0;
      while (i < chunk.length && !this.parser.isDead) {
        if (this.handler === undefined) {
          // Bytes with no request outstanding: the upstream is out of step; drop the connection.
          socket.destroy();
          return;
        }
        i = this.parser.execute(chunk, i);
      }
    });
    socket.on('end', () => {
      // A body that runs to the close ends here; a response cut short is refused by the parser.
      this.parser.finish();
      // The peer sends nothing more: idle, it can carry no other exchange; mid-exchange (no answer
      // yet), the close tells the exchange so (upstream connection termination).
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.onClose?.();
      this.#leaveIdle();
      this.releaseSlot?.();
      this.releaseSlot = undefined;
      this.onSlotFree?.();
    });
    // One listener each for the connection's life: exchanges only swap the callbacks (listeners
    // added per request would pile up on a long-lived pooled connection).
    socket.on('drain', () => this.onDrain?.());
    socket.on('timeout', () => socket.destroy());
  }

  /** The idle list this connection waits in, if any. */
  idleList: UpstreamConnection[] | undefined;
  /** Set by the pools: a closed connection frees a slot a waiting request may take. */
  onSlotFree: (() => void) | undefined;

  #leaveIdle(): void {
    const list = this.idleList;
    this.idleList = undefined;
    const at = list?.indexOf(this) ?? -1;
    if (list !== undefined && at !== -1) list.splice(at, 1);
  }

  get isUsable(): boolean {
    return (
      !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded && !this.parser.isDead
    );
  }
}

/** A request waiting for a connection because its cluster is at maxConnections. */
interface Waiter {
  key: string;
  open: () => void;
  take: (conn: UpstreamConnection) => void;
}

export class UpstreamPools {
  readonly #idle = new Map<string, UpstreamConnection[]>();
  /** Per cluster (its circuit breaker): requests waiting for a connection, oldest first. */
  readonly #waiting = new Map<CircuitBreaker, Waiter[]>();
  /** HBONE sessions to peer proxies' tunnel ports, for endpoints that have one. */
  readonly #tunnels: HboneTunnels;

  constructor(tunnels: HboneTunnels) {
    this.#tunnels = tunnels;
  }

  /**
   * An idle connection to `endpoint`, or a new one (mTLS when `tls` is set). With a circuit breaker,
   * a cluster at maxConnections makes the request wait for one (up to maxPendingRequests waiting);
   * beyond that it is refused with flag UO.
   */
  acquire(
    endpoint: Endpoint,
    tls: MeshTls | undefined,
    connectTimeoutMs: number,
    breaker?: CircuitBreaker,
  ): Promise<UpstreamConnection> {
    const key = `${tls === undefined ? 'plain' : endpoint.spiffeId}|${endpoint.address}:${endpoint.port}`;
    const idle = this.#idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const conn = idle.pop() as UpstreamConnection;
      conn.idleList = undefined;
      conn.socket.setTimeout(0);
      if (conn.isUsable) return Promise.resolve(conn);
    }
    const open = (slot: Release | undefined) =>
      connectPeer(this.#tunnels, endpoint, tls, connectTimeoutMs, HTTP1_ALPN).then(
        (socket) => {
          const conn = new UpstreamConnection(socket, key);
          conn.breaker = breaker;
          conn.releaseSlot = slot;
          if (breaker !== undefined) conn.onSlotFree = () => this.#wakeOne(breaker);
          return conn;
        },
        (err: unknown) => {
          slot?.();
          if (breaker !== undefined) this.#wakeOne(breaker);
          throw err;
        },
      );
    if (breaker === undefined) return open(undefined);
    const slot = breaker.tryAcquireConnection();
    if (slot !== null) return open(slot);
    const pending = breaker.tryAcquirePending();
    if (pending === null) {
      const s = breaker.stats();
      return Promise.reject(
        new ProxyError(
          ResponseFlag.UpstreamOverflow,
          503,
          `upstream connection pool overflow: ${s.connections} connections open and ${s.pendingRequests} requests waiting (DestinationRule connectionPool limits)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(breaker) ?? [];
      this.#waiting.set(breaker, waiters);
      waiters.push({
        key,
        open: () => {
          const again = breaker.tryAcquireConnection();
          if (again === null) {
            // Still full (another request took the slot): wait again at the front.
            waiters.unshift(waiter);
            return;
          }
          pending();
          open(again).then(resolve, reject);
        },
        take: (conn) => {
          pending();
          resolve(conn);
        },
      });
      const waiter = waiters[waiters.length - 1] as Waiter;
    });
  }

  /** A connection slot of the cluster freed: the oldest waiting request opens a connection. */
  #wakeOne(breaker: CircuitBreaker): void {
    const waiter = this.#waiting.get(breaker)?.shift();
    waiter?.open();
  }

  /** Returns a connection whose exchange finished cleanly; anything else is closed. */
  release(conn: UpstreamConnection, isReusable: boolean): void {
    conn.handler = undefined;
    conn.onClose = undefined;
    conn.onDrain = undefined;
    if (!isReusable || !conn.isUsable) {
      conn.socket.destroy();
      return;
    }
    // A request waiting for a connection to this endpoint takes it at once.
    const waiters = conn.breaker === undefined ? undefined : this.#waiting.get(conn.breaker);
    const at = waiters?.findIndex((w) => w.key === conn.key) ?? -1;
    if (waiters !== undefined && at !== -1) {
      const [waiter] = waiters.splice(at, 1);
      waiter?.take(conn);
      return;
    }
    const list = this.#idle.get(conn.key) ?? [];
    list.push(conn);
    this.#idle.set(conn.key, list);
    conn.idleList = list;
    conn.socket.setTimeout(IDLE_TIMEOUT_MS);
  }
}
