// The proxy's bound sockets, kept in step with the snapshot: a listener whose address and port stay
// keeps its socket (its connections read the new spec from the runtime); new ones are bound before
// old ones close, and if any bind fails the whole change is undone. Every accepted connection takes a
// slot of one budget shared by all listeners; past it, connections are closed as they come.

import { createServer, type Server, type Socket } from 'node:net';
import { AlderError, ErrorCode } from '../../config/core.ts';
import type { Listener } from '../../wire/index.ts';
import { closeWhenIdle } from '../l4/index.ts';
import {
  connectionLimits,
  type ProxyContext,
  type Runtime,
  type ThrottledLog,
  throttledLog,
} from '../runtime/index.ts';
import { ConnectionBudget, downstreamCap, openFileLimit } from './connection-budget.ts';

export type ConnectionHandler = (socket: Socket, spec: Listener, ctx: ProxyContext) => void;

interface Bound {
  name: string;
  kind: Listener['kind'];
  server: Server;
  address: string;
  port: number;
  /** Open connections, so that a drain can end the stragglers. */
  sockets: Set<Socket>;
}

/** How long connections of a removed listener may run on before they are cut. */
const DRAIN_MS = 60_000;

export class ListenerSet {
  readonly #ctx: ProxyContext;
  readonly #handle: ConnectionHandler;
  readonly #budget: ConnectionBudget;
  readonly #warn: ThrottledLog;
  #bound = new Map<string, Bound>();
  /** Kinds of listener no longer bound, whatever later snapshots say (a draining workload's inbound). */
  readonly #stopped = new Set<Listener['kind']>();

  /** Settles the connection limits (a bad ALDER_PROXY_* value throws here, as the proxy starts). */
  constructor(ctx: ProxyContext, handle: ConnectionHandler) {
    this.#ctx = ctx;
    this.#handle = handle;
    this.#warn = throttledLog(ctx.log);
    const configured = connectionLimits().maxDownstreamConnections;
    const fdLimit = openFileLimit();
    this.#budget = new ConnectionBudget(downstreamCap(configured, fdLimit));
    ctx.stats.describe(
      'alder_proxy_overload_refused_total',
      'Connections closed as they were accepted because the proxy held its maximum of downstream connections, by listener.',
    );
    ctx.stats.describe(
      'alder_proxy_downstream_connections',
      'Downstream connections open, over every listener.',
    );
    ctx.stats.describe(
      'alder_proxy_downstream_connections_limit',
      'The most downstream connections open at once.',
    );
    ctx.stats.set('alder_proxy_downstream_connections_limit', {}, this.#budget.limit);
    if (this.#budget.limit < configured) {
      ctx.log.info('downstream connections capped by the open-file limit', {
        limit: this.#budget.limit,
        configured,
        openFileLimit: fdLimit,
      });
    }
  }

  /** Binds what the runtime adds and closes what it drops; on a bind failure, changes nothing. */
  async apply(runtime: Runtime): Promise<void> {
    const wanted = new Map(
      runtime.snapshot.listeners
        .filter((l) => !this.#stopped.has(l.kind))
        .map((l) => [`${l.name}@${l.address}:${l.port}`, l]),
    );
    const added: Bound[] = [];
    try {
      for (const [key, spec] of wanted) {
        if (!this.#bound.has(key)) added.push(await this.#bind(spec));
      }
    } catch (err) {
      await Promise.all(added.map((b) => drain(b, 0)));
      throw err;
    }
    const next = new Map<string, Bound>();
    for (const [key, b] of this.#bound) {
      if (wanted.has(key)) next.set(key, b);
      else void drain(b, DRAIN_MS);
    }
    for (const b of added) next.set(`${b.name}@${b.address}:${b.port}`, b);
    this.#bound = next;
  }

  addresses(): { name: string; address: string; port: number }[] {
    return [...this.#bound.values()].map(({ name, address, port }) => ({ name, address, port }));
  }

  /**
   * Stops accepting on listeners of `kinds`, now and in later snapshots; their open connections get
   * up to `graceMs` to finish. Resolves when the last has closed.
   */
  async stopAccepting(kinds: readonly Listener['kind'][], graceMs: number): Promise<void> {
    for (const kind of kinds) this.#stopped.add(kind);
    const going = [...this.#bound].filter(([, b]) => this.#stopped.has(b.kind));
    for (const [key] of going) this.#bound.delete(key);
    await Promise.all(going.map(([, b]) => drain(b, graceMs)));
  }

  /** Stops accepting, lets open connections finish for up to `graceMs`, then cuts the rest. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.#bound.values()].map((b) => drain(b, graceMs)));
    this.#bound.clear();
  }

  async #bind(spec: Listener): Promise<Bound> {
    const sockets = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (!this.#budget.tryTake()) {
        this.#refuse(socket, spec.name);
        return;
      }
      sockets.add(socket);
      this.#countOpen();
      socket.once('close', () => {
        sockets.delete(socket);
        this.#budget.release();
        this.#countOpen();
      });
      const current = this.#ctx.current().listeners.get(spec.name) ?? spec;
      this.#ctx.stats.add('alder_proxy_connections_total', { listener: spec.name });
      socket.on('error', () => socket.destroy());
      this.#handle(socket, current, this.#ctx);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new AlderError(
            ErrorCode.SnapshotInvalid,
            `listener ${spec.name}: cannot listen on ${spec.address}:${spec.port}: ${err.code}`,
            {
              hint:
                err.code === 'EADDRINUSE'
                  ? 'another process holds that port'
                  : 'check the address exists on this host',
            },
          ),
        ),
      );
      server.listen(spec.port, spec.address, () => resolve());
    });
    // Once bound, an error is a failed accept (EMFILE when descriptors run out): the listener goes on.
    server.on('error', (err: NodeJS.ErrnoException) =>
      this.#warn.warn(`accept:${spec.name}`, 'accept failed', { listener: spec.name, code: err.code }),
    );
    const port = (server.address() as { port: number }).port;
    return { name: spec.name, kind: spec.kind, server, address: spec.address, port, sockets };
  }

  /** Over the budget: the connection is closed before anything reads it. */
  #refuse(socket: Socket, listener: string): void {
    socket.destroy();
    this.#ctx.stats.add('alder_proxy_overload_refused_total', { listener });
    this.#warn.warn('overload', 'connection refused: the proxy holds its maximum of downstream connections', {
      listener,
      limit: this.#budget.limit,
    });
  }

  #countOpen(): void {
    this.#ctx.stats.set('alder_proxy_downstream_connections', {}, this.#budget.open);
  }
}

function drain(b: Bound, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (graceMs > 0) for (const s of b.sockets) closeWhenIdle(s);
    const timer = setTimeout(() => {
      for (const s of b.sockets) s.destroy();
    }, graceMs);
    b.server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if (graceMs === 0) for (const s of b.sockets) s.destroy();
  });
}
