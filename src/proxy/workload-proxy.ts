// One workload proxy: takes snapshots, builds their runtime, keeps listeners in step, serves the
// admin port. A snapshot that fails to decode, build or bind is refused whole (counted and logged
// with its reason) and the last good one stays in force.

import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../telemetry/index.ts';
import type { Listener, Snapshot } from '../wire/index.ts';
import { createAdminServer } from './admin.ts';
import { ListenerSet } from './listeners/index.ts';
import type { ProxyContext } from './runtime/index.ts';
import { buildRuntime, type Runtime, retireRuntime, Stats } from './runtime/index.ts';

export type Dispatch = (socket: Socket, spec: Listener, ctx: ProxyContext) => void;

export interface ProxyOptions {
  /** host:port of the admin server; port 0 picks one. */
  admin: { host: string; port: number };
  log: Logger;
  dispatch: Dispatch;
}

export interface ApplyOutcome {
  accepted: boolean;
  version: string;
  reason?: string;
}

export class WorkloadProxy {
  readonly stats = new Stats();
  readonly #log: Logger;
  #runtime: Runtime | undefined;
  readonly #listeners: ListenerSet;
  readonly #admin;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyOptions) {
    this.#log = options.log;
    const ctx: ProxyContext = {
      current: () => this.#runtime as Runtime,
      stats: this.stats,
      log: options.log,
    };
    this.#listeners = new ListenerSet(ctx, options.dispatch);
    this.#admin = createAdminServer({ current: () => this.#runtime, stats: this.stats });
    this.stats.describe(
      'alder_proxy_snapshots_total',
      'Snapshots received, by outcome (accepted or rejected).',
    );
    this.stats.describe('alder_proxy_connections_total', 'Connections accepted, by listener.');
    this.stats.describe(
      'alder_proxy_local_replies_total',
      'Requests or connections the proxy ended itself, by response flag.',
    );
  }

  async startAdmin(host: string, port: number): Promise<string> {
    this.#admin.listen(port, host);
    await once(this.#admin, 'listening');
    const a = this.#admin.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get runtime(): Runtime | undefined {
    return this.#runtime;
  }

  listenerAddresses() {
    return this.#listeners.addresses();
  }

  /** Applies snapshots one at a time, in the order given. */
  apply(snapshot: Snapshot): Promise<ApplyOutcome> {
    const next = this.#applying.then(() => this.#apply(snapshot));
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #apply(snapshot: Snapshot): Promise<ApplyOutcome> {
    if (snapshot.version === this.#runtime?.snapshot.version)
      return { accepted: true, version: snapshot.version };
    const previous = this.#runtime;
    try {
      const runtime = buildRuntime(snapshot, previous);
      this.#runtime = runtime;
      await this.#listeners.apply(runtime);
      if (previous !== undefined) retireRuntime(previous, runtime);
    } catch (err) {
      this.#runtime = previous;
      const reason = (err as Error).message;
      this.stats.add('alder_proxy_snapshots_total', { outcome: 'rejected' });
      this.#log.error('snapshot rejected, keeping the last good one', {
        version: snapshot.version,
        kept: previous?.snapshot.version,
        reason,
      });
      return { accepted: false, version: snapshot.version, reason };
    }
    this.stats.add('alder_proxy_snapshots_total', { outcome: 'accepted' });
    this.stats.replace('alder_proxy_snapshot_info', { version: snapshot.version }, 1);
    this.#log.info('snapshot applied', {
      version: snapshot.version,
      listeners: snapshot.listeners.length,
      clusters: snapshot.clusters.length,
    });
    return { accepted: true, version: snapshot.version };
  }

  /** Stops serving: open connections get `graceMs` to finish (default 1 s), then are cut. */
  async close(graceMs = 1000): Promise<void> {
    await this.#listeners.close(graceMs);
    await new Promise<void>((resolve) => this.#admin.close(() => resolve()));
  }
}
