// One workload proxy: takes wire-encoded snapshots, decodes them at its edge, builds their runtime,
// keeps listeners in step, serves the admin port. A snapshot that fails to decode, build or bind is
// refused whole, and so is a change its source could not turn into a snapshot: each refusal is
// counted and logged with its reason, kept for the admin port, and the last good snapshot stays.

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AlderError, ErrorCode } from '../config/core.ts';
import type { Logger } from '../telemetry/index.ts';
import { checkSnapshot, decodeSnapshot, type Listener, type Snapshot } from '../wire/index.ts';
import { createAdminServer, type Refusal } from './admin.ts';
import { NO_AUTHN, retireAuthn } from './jwt/index.ts';
import { ListenerSet } from './listeners/index.ts';
import type { ProxyContext } from './runtime/index.ts';
import { buildRuntime, type Runtime, type RuntimeEvents, retireRuntime, Stats } from './runtime/index.ts';

export type Dispatch = (socket: Socket, spec: Listener, ctx: ProxyContext) => void;

export interface ProxyOptions {
  /** host:port of the admin server; port 0 picks one (unused: startAdmin says where). */
  admin?: { host: string; port: number };
  log: Logger;
  dispatch: Dispatch;
  /** What requests to the forward proxy must carry as Proxy-Authorization (see ProxyContext). */
  outboundCredential?: string;
}

export type ApplyOutcome =
  | { accepted: true; version: string }
  | { accepted: false; version: string | undefined; reason: string };

export class WorkloadProxy {
  readonly stats = new Stats();
  readonly #log: Logger;
  #runtime: Runtime | undefined;
  #lastRefused: Refusal | undefined;
  readonly #listeners: ListenerSet;
  readonly #admin;
  readonly #events: RuntimeEvents;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyOptions) {
    this.#log = options.log;
    const ctx: ProxyContext = {
      current: () => this.#runtime as Runtime,
      stats: this.stats,
      log: options.log,
      ...(options.outboundCredential === undefined ? {} : { outboundCredential: options.outboundCredential }),
    };
    this.#listeners = new ListenerSet(ctx, options.dispatch);
    this.#admin = createAdminServer({
      current: () => this.#runtime,
      lastRefused: () => this.#lastRefused,
      stats: this.stats,
    });
    this.stats.describe(
      'alder_proxy_snapshots_total',
      'Snapshots and config changes received, by outcome (accepted or rejected).',
    );
    this.stats.describe(
      'alder_proxy_snapshot_stale',
      '1 while the last change was refused and an older snapshot is served, else 0.',
    );
    this.stats.set('alder_proxy_snapshot_stale', {}, 0);
    this.stats.describe('alder_proxy_connections_total', 'Connections accepted, by listener.');
    this.stats.describe(
      'alder_proxy_local_replies_total',
      'Requests or connections the proxy ended itself, by response flag.',
    );
    this.stats.describe(
      'alder_proxy_jwt_rejected_total',
      'Requests refused by RequestAuthentication (401, or 403 for an audience not allowed), by listener, issuer and reason.',
    );
    this.stats.describe(
      'alder_proxy_jwks_fetches_total',
      'Fetches of the key sets RequestAuthentication rules name, by jwks_uri and outcome (ok or failed).',
    );
    this.#events = {
      onJwksFetch: (o) => {
        this.stats.add('alder_proxy_jwks_fetches_total', {
          jwks_uri: o.uri,
          outcome: o.ok ? 'ok' : 'failed',
        });
        if (o.ok) this.#log.info('JWKS fetched', { uri: o.uri, keys: o.keys });
        else
          this.#log.warn(
            'JWKS fetch failed, tokens of its issuer are checked against the last keys fetched, if any',
            { uri: o.uri, reason: o.reason },
          );
      },
    };
  }

  async startAdmin(host: string, port: number): Promise<string> {
    this.#admin.listen(port, host);
    try {
      await once(this.#admin, 'listening');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AlderError(ErrorCode.Usage, `the admin port cannot listen on ${host}:${port}: ${code}`, {
        hint:
          code === 'EADDRINUSE'
            ? 'another process holds that port: give another --admin HOST:PORT (port 0 picks a free one)'
            : 'check that the address exists on this host',
      });
    }
    const a = this.#admin.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** Serves one request of the admin API without a port of its own (a node proxy's workloads). */
  serveAdmin(req: IncomingMessage, res: ServerResponse): void {
    this.#admin.emit('request', req, res);
  }

  get runtime(): Runtime | undefined {
    return this.#runtime;
  }

  /** The last change refused, while no later one was accepted: the snapshot served is older. */
  get lastRefused(): Refusal | undefined {
    return this.#lastRefused;
  }

  listenerAddresses() {
    return this.#listeners.addresses();
  }

  /**
   * Applies snapshots one at a time, in the order given: wire-encoded text (a file, a folder's
   * compiler), decoded here; or one the agent built in this process from its resources, checked as
   * text would be but not copied, so that workloads of one node proxy share the parts they hold alike.
   */
  apply(snapshot: string | Snapshot): Promise<ApplyOutcome> {
    return this.#enqueue(() => this.#apply(snapshot));
  }

  /**
   * Records a change refused before it became a snapshot (a config folder that does not compile),
   * in order with the snapshots applied: counted, logged, and shown on the admin port.
   */
  refuse(reason: string): Promise<void> {
    return this.#enqueue(async () => {
      this.#refused(reason);
      this.#log.error('config change refused, keeping the last good snapshot', {
        kept: this.#runtime?.snapshot.version,
        reason,
      });
    });
  }

  #enqueue<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#applying.then(step);
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #apply(given: string | Snapshot): Promise<ApplyOutcome> {
    let snapshot: Snapshot;
    try {
      snapshot = typeof given === 'string' ? decodeSnapshot(given) : checkSnapshot(given);
    } catch (err) {
      return this.#reject(undefined, (err as Error).message);
    }
    if (snapshot.version === this.#runtime?.snapshot.version) {
      this.#accepted();
      return { accepted: true, version: snapshot.version };
    }
    const previous = this.#runtime;
    let built: Runtime | undefined;
    try {
      const runtime = buildRuntime(snapshot, previous, this.#events);
      built = runtime;
      this.#runtime = runtime;
      await this.#listeners.apply(runtime);
      if (previous !== undefined) retireRuntime(previous, runtime);
    } catch (err) {
      // Key sets the refused runtime started fetching (it may have served a request while its
      // listeners were applied) stop; those it shares with the kept runtime go on.
      if (built !== undefined) retireAuthn(built.authn, previous?.authn ?? NO_AUTHN);
      this.#runtime = previous;
      return this.#reject(snapshot.version, (err as Error).message);
    }
    this.#accepted();
    this.stats.add('alder_proxy_snapshots_total', { outcome: 'accepted' });
    this.stats.replace('alder_proxy_snapshot_info', { version: snapshot.version }, 1);
    this.#log.info('snapshot applied', {
      version: snapshot.version,
      listeners: snapshot.listeners.length,
      clusters: snapshot.clusters.length,
    });
    return { accepted: true, version: snapshot.version };
  }

  #reject(version: string | undefined, reason: string): ApplyOutcome {
    this.#refused(reason);
    this.#log.error('snapshot rejected, keeping the last good one', {
      version,
      kept: this.#runtime?.snapshot.version,
      reason,
    });
    return { accepted: false, version, reason };
  }

  #refused(reason: string): void {
    this.#lastRefused = { at: new Date().toISOString(), reason };
    this.stats.add('alder_proxy_snapshots_total', { outcome: 'rejected' });
    this.stats.set('alder_proxy_snapshot_stale', {}, 1);
  }

  /** The snapshot in force is the latest change again (a new one, or the same one re-sent). */
  #accepted(): void {
    this.#lastRefused = undefined;
    this.stats.set('alder_proxy_snapshot_stale', {}, 0);
  }

  /**
   * Stops taking traffic for the workload (its inbound ports and tunnel) while the outbound side goes
   * on: connections open get up to `graceMs` to finish. Resolves when the last has closed.
   */
  drainInbound(graceMs: number): Promise<void> {
    return this.#listeners.stopAccepting(['inbound', 'tunnel'], graceMs);
  }

  /** Stops serving: open connections get `graceMs` to finish (default 1 s), then are cut. */
  async close(graceMs = 1000): Promise<void> {
    await this.#listeners.close(graceMs);
    this.#runtime?.pools.close();
    if (this.#runtime !== undefined) retireAuthn(this.#runtime.authn, NO_AUTHN);
    if (this.#admin.listening) await new Promise<void>((resolve) => this.#admin.close(() => resolve()));
  }
}
