// Keep-alive connection pools to upstream endpoints, one list of idle connections per endpoint and
// TLS identity, within each cluster's connection limits. Each connection owns one strict response
// parser and serves one request at a time as that request's UpstreamStream.

import type { ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import type { Release } from '../balance/index.ts';
import type { OutgoingRequest, ResponseHead } from '../http/index.ts';
import {
  encodeChunk,
  type Http1Rejection,
  type ResponseHead as Http1ResponseHead,
  isWebSocket,
  lastChunk,
  newWebSocketKey,
  ResponseParser,
  type ResponseParserCallbacks,
  serializeRequestHead,
  stripHopByHop,
  webSocketAccept,
} from '../http1/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import { isOriginTls, type UpstreamTls } from '../tls/index.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';
import { poolKeyOf } from './connect.ts';
import { connectPeer, type HboneTunnels } from './hbone.ts';
import { limitWords } from './limit-words.ts';
import type { UpstreamEvents, UpstreamStream } from './upstream-stream.ts';

const HTTP1_ALPN = ['http/1.1'];

/** Idle pooled connections close after this long, before most servers' own keep-alive timeouts. */
const IDLE_TIMEOUT_MS = 30_000;

export class UpstreamConnection implements UpstreamStream, ResponseParserCallbacks {
  /**
   * A TCP or TLS connection, or an HBONE tunnel (a CONNECT stream) to the peer proxy, driven through
   * the same stream methods (write, cork, pause, setTimeout, destroy).
   */
  readonly socket: Socket;
  readonly parser: ResponseParser;
  readonly key: string;
  readonly #pools: UpstreamPools;
  events: UpstreamEvents | undefined;
  onDrain: (() => void) | undefined;
  /** The cluster whose connection slot this connection holds, if any. */
  cluster: ClusterRuntime | undefined;
  /** Gives back the cluster's connection slot when the connection closes. */
  releaseSlot: Release | undefined;
  /** The idle list this connection waits in, if any. */
  idleList: UpstreamConnection[] | undefined;
  #isChunked = false;
  #isInterim = false;
  #isReusable = false;
  /** The upgrade the request in flight asks for ('' when none): only then may a 101 come. */
  #upgrade = '';
  /** The Sec-WebSocket-Key the proxy made for an HTTP/2 WebSocket (RFC 8441 has none), checked in the 101. */
  #madeKey: string | undefined;
  /** The 101 that switched the connection: the bytes after it belong to the new protocol. */
  #switched: Http1ResponseHead | undefined;

  readonly #onData = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length && !this.parser.isDead) {
      if (this.events === undefined) {
        // Bytes with no request outstanding: the upstream is out of step; drop the connection.
        this.socket.destroy();
        return;
      }
      i = this.parser.execute(chunk, i);
      if (this.#switched !== undefined) {
        this.#handOver(this.#switched, chunk.subarray(i));
        return;
      }
    }
  };

  readonly #onInputEnd = (): void => {
    // A body that runs to the close ends here; a response cut short is refused by the parser.
    this.parser.finish();
    // The peer sends nothing more: idle, it can carry no other request; mid-exchange (no answer
    // yet), the close tells the exchange so (upstream connection termination).
    this.socket.destroy();
  };

  constructor(socket: Socket | TLSSocket | ClientHttp2Stream, key: string, pools: UpstreamPools) {
    this.socket = socket as Socket;
    this.key = key;
    this.#pools = pools;
    this.parser = new ResponseParser(this);
    socket.on('data', this.#onData);
    socket.on('end', this.#onInputEnd);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const events = this.events;
      this.events = undefined;
      events?.onFailure({
        kind: 'reset',
        message: 'upstream closed the connection before the response was complete',
      });
      this.#leaveIdle();
      this.releaseSlot?.();
      this.releaseSlot = undefined;
      if (this.cluster !== undefined) this.#pools.slotFreed(this.cluster);
    });
    // One listener each for the connection's life: exchanges only swap the callbacks.
    socket.on('drain', () => this.onDrain?.());
    socket.on('timeout', () => socket.destroy());
  }

  /** Sends a request's head (and starts its exchange); the body follows through write() and end(). */
  begin(req: OutgoingRequest, events: UpstreamEvents): void {
    this.events = events;
    this.#isChunked = req.framing === 'chunked';
    this.#isInterim = false;
    this.#upgrade = req.upgrade ?? '';
    this.#madeKey = undefined;
    this.parser.expectResponseTo(req.method);
    const framing =
      req.framing === 'length'
        ? ['content-length', String(req.contentLength)]
        : this.#isChunked
          ? ['transfer-encoding', 'chunked']
          : NO_FIELDS;
    const extra =
      req.upgrade === undefined ? framing : [...framing, ...this.#upgradeFields(req.upgrade, req)];
    const headers = extra.length === 0 ? req.headers : [...req.headers, ...extra];
    // The head and the body bytes already here go out as one write (one TLS record, one syscall).
    this.socket.cork();
    this.socket.write(serializeRequestHead(req.method, req.path, headers), 'latin1');
    process.nextTick(uncork, this.socket);
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(this.#isChunked ? encodeChunk(chunk) : chunk);
  }

  end(trailers: string[] | null): void {
    if (this.#isChunked) this.socket.write(lastChunk(trailers), 'latin1');
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  release(isClean: boolean): void {
    this.events = undefined;
    this.onDrain = undefined;
    this.#pools.release(this, isClean && this.#isReusable);
  }

  abort(): void {
    this.events = undefined;
    this.onDrain = undefined;
    this.socket.destroy();
  }

  /**
   * Upgrade and `Connection: upgrade`; for a WebSocket that came as extended CONNECT without a key
   * (RFC 8441), a key of the proxy's making, as an HTTP/1 server requires one (RFC 6455 §4.1).
   */
  #upgradeFields(upgrade: string, req: OutgoingRequest): string[] {
    const fields = ['connection', 'upgrade', 'upgrade', upgrade];
    if (req.isExtendedConnect !== true || !isWebSocket(upgrade) || hasField(req.headers, 'sec-websocket-key'))
      return fields;
    this.#madeKey = newWebSocketKey();
    fields.push('sec-websocket-key', this.#madeKey);
    if (!hasField(req.headers, 'sec-websocket-version')) fields.push('sec-websocket-version', '13');
    return fields;
  }

  /** A 101: checked against what was asked; a good one switches the connection after its head. */
  #onSwitch(h: Http1ResponseHead): void {
    const key = this.#madeKey;
    const problem =
      this.#upgrade === ''
        ? 'upstream answered 101 Switching Protocols to a request that asked for no upgrade'
        : key !== undefined && fieldOf(h.headers, 'sec-websocket-accept') !== webSocketAccept(key)
          ? 'upstream answered the WebSocket handshake without the Sec-WebSocket-Accept the key the proxy sent calls for'
          : undefined;
    if (problem === undefined) {
      this.parser.pause();
      this.#switched = h;
      return;
    }
    const events = this.events;
    this.events = undefined;
    events?.onFailure({ kind: 'protocol-error', message: problem });
    this.socket.destroy();
  }

  /**
   * The switch: the connection leaves HTTP (and any pool) for good; `rest`, the bytes that came after
   * the 101 head, go back to the front of the stream handed over. Its slot is given back at close.
   */
  #handOver(h: Http1ResponseHead, rest: Buffer): void {
    const events = this.events;
    this.events = undefined;
    this.onDrain = undefined;
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onInputEnd);
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    if (events === undefined) {
      socket.destroy();
      return;
    }
    const head = toResponseHead(h);
    // The accept answers the proxy's own key: the caller never sent one.
    if (this.#madeKey !== undefined) head.headers = withoutField(head.headers, 'sec-websocket-accept');
    events.onUpgrade(head, socket);
  }

  onHead(h: Http1ResponseHead): void {
    if (h.isUpgrade) {
      this.#onSwitch(h);
      return;
    }
    this.#isInterim = h.isInformational;
    this.#isReusable = h.isKeepAlive && h.framing !== 'close';
    this.events?.onHead(toResponseHead(h));
  }

  onBody(chunk: Buffer): void {
    this.events?.onBody(chunk);
  }

  onEnd(trailers: string[] | null): void {
    if (this.#switched !== undefined) return; // the 101's end: the tunnel is handed over next
    if (this.#isInterim) {
      this.#isInterim = false;
      return;
    }
    this.events?.onEnd(trailers);
  }

  onError(_rejection: Http1Rejection): void {
    const events = this.events;
    this.events = undefined;
    events?.onFailure({ kind: 'protocol-error', message: 'upstream sent a malformed response' });
    this.socket.destroy();
  }

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

const NO_FIELDS: readonly string[] = [];

function uncork(socket: Socket): void {
  socket.uncork();
}

/** An HTTP/1 response head as the pipeline passes it: hop-by-hop (Upgrade too) and framing fields gone. */
function toResponseHead(h: Http1ResponseHead): ResponseHead {
  return {
    status: h.status,
    statusText: h.statusText,
    headers: withoutFraming(stripHopByHop(h.headers)),
    framing: h.framing,
    contentLength: h.contentLength,
    isInterim: h.isInformational,
    grpcStatus: undefined,
  };
}

/** Headers without Content-Length: the proxy writes the framing of what it forwards itself. */
function withoutFraming(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'content-length') out.push(headers[k] as string, headers[k + 1] as string);
  }
  return out;
}

function hasField(headers: readonly string[], name: string): boolean {
  for (let k = 0; k < headers.length; k += 2) if (headers[k] === name) return true;
  return false;
}

/** The first value of `name`, or undefined. */
function fieldOf(headers: readonly string[], name: string): string | undefined {
  for (let k = 0; k < headers.length; k += 2) if (headers[k] === name) return headers[k + 1];
  return undefined;
}

function withoutField(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== name) out.push(headers[k] as string, headers[k + 1] as string);
  }
  return out;
}

/** A request waiting for a connection because its cluster is at maxConnections. */
interface Waiter {
  key: string;
  /** A connection slot freed: try to open one (or wait again). */
  open(): void;
  /** An idle connection to the waiter's endpoint came back: take it. */
  take(conn: UpstreamConnection): void;
}

/** Lets a caller give up waiting for a connection: set by acquire() while the request waits. */
export interface AcquireCancel {
  cancel?: () => void;
}

export class UpstreamPools {
  readonly #idle = new Map<string, UpstreamConnection[]>();
  /** Per cluster: requests waiting for a connection, oldest first. */
  readonly #waiting = new Map<ClusterRuntime, Waiter[]>();
  /** HBONE sessions to peer proxies' tunnel ports, for endpoints that have one. */
  readonly #tunnels: HboneTunnels;
  /** The proxy is stopping: connections given back are closed, not kept. */
  #isClosed = false;

  constructor(tunnels: HboneTunnels) {
    this.#tunnels = tunnels;
  }

  /**
   * An idle connection to `endpoint`, or a new one (mTLS when `tls` is set). With a cluster, its
   * maxConnections holds: at the limit the request waits for a connection (up to
   * http1MaxPendingRequests waiting), beyond that it is refused with flag UO. A waiting request that
   * `cancel.cancel()`s leaves the queue at once.
   */
  acquire(
    endpoint: Endpoint,
    tls: UpstreamTls | undefined,
    connectTimeoutMs: number,
    cluster?: ClusterRuntime,
    cancel?: AcquireCancel,
  ): Promise<UpstreamConnection> {
    const key = `${poolKeyOf(tls, endpoint)}|${endpoint.address}:${endpoint.port}`;
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
          const conn = new UpstreamConnection(socket, key, this);
          conn.cluster = cluster;
          conn.releaseSlot = slot;
          return conn;
        },
        (err: unknown) => {
          slot?.();
          if (cluster !== undefined) this.slotFreed(cluster);
          throw err;
        },
      );
    if (cluster === undefined) return open(undefined);
    const breaker = cluster.breaker;
    const slot = breaker.tryAcquireConnection();
    if (slot !== null) return open(slot);
    const pending = breaker.tryAcquirePending();
    if (pending === null) return Promise.reject(overflow(cluster));
    // The slots are held by idle connections to other endpoints: one gives its slot up now.
    this.#closeIdleOf(cluster);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(cluster) ?? [];
      this.#waiting.set(cluster, waiters);
      let isWaiting = true;
      const leave = () => {
        if (!isWaiting) return;
        isWaiting = false;
        const at = waiters.indexOf(waiter);
        if (at !== -1) waiters.splice(at, 1);
        pending();
      };
      const waiter: Waiter = {
        key,
        open: () => {
          const again = breaker.tryAcquireConnection();
          if (again === null) {
            // Still full (another request took the slot): wait again at the front.
            waiters.unshift(waiter);
            return;
          }
          leave();
          open(again).then(resolve, reject);
        },
        take: (conn) => {
          leave();
          resolve(conn);
        },
      };
      waiters.push(waiter);
      if (cancel !== undefined) cancel.cancel = leave;
    });
  }

  /** A connection slot of the cluster freed: the oldest waiting request opens a connection. */
  slotFreed(cluster: ClusterRuntime): void {
    const waiters = this.#waiting.get(cluster);
    waiters?.shift()?.open();
  }

  /** Returns a connection whose exchange finished cleanly; anything else is closed. */
  release(conn: UpstreamConnection, isReusable: boolean): void {
    if (!isReusable || !conn.isUsable || this.#isClosed) {
      conn.socket.destroy();
      return;
    }
    const waiters = conn.cluster === undefined ? undefined : this.#waiting.get(conn.cluster);
    if (waiters !== undefined && waiters.length > 0) {
      // A request waiting for this endpoint takes the connection; waiting for another endpoint,
      // it gets the connection's slot instead.
      const waiter = waiters.find((w) => w.key === conn.key);
      if (waiter !== undefined) waiter.take(conn);
      else conn.socket.destroy();
      return;
    }
    const list = this.#idle.get(conn.key) ?? [];
    list.push(conn);
    this.#idle.set(conn.key, list);
    conn.idleList = list;
    conn.socket.setTimeout(IDLE_TIMEOUT_MS);
  }

  /**
   * The proxy is stopping: every idle connection closes now and each busy one when its exchange ends,
   * so that no keep-alive connection to an app holds the process after its listeners closed.
   */
  close(): void {
    this.#isClosed = true;
    for (const list of this.#idle.values()) for (const conn of list.splice(0)) conn.socket.destroy();
    this.#idle.clear();
  }

  /** Closes one idle connection of the cluster, so that its slot serves a waiting request. */
  #closeIdleOf(cluster: ClusterRuntime): void {
    for (const list of this.#idle.values()) {
      const conn = list.find((c) => c.cluster === cluster);
      if (conn !== undefined) {
        conn.socket.destroy();
        return;
      }
    }
  }
}

function overflow(cluster: ClusterRuntime): ProxyError {
  const s = cluster.breaker.stats();
  return new ProxyError(
    Reply.Overflow,
    `upstream connection pool overflow: ${s.connections} connections open and ${s.pendingRequests} requests waiting, the limits of ${limitWords(cluster, ['maxConnections', 'maxPendingRequests'])}`,
  );
}
