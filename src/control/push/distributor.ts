// Distribution: follows the config (ConfigMirror), and after each burst of changes (debounced)
// computes what every connected proxy should hold (ProxyResources, once per shape) and sends each
// only what it lacks. One push in flight per proxy: a change that arrives meanwhile is folded into
// the next push, so a slow proxy gets the latest state, never a queue of intermediate ones. A
// connection carries one session per workload that said hello on it: a sidecar's one, or every
// workload of a node proxy's host, each with its own identity, state and rotation.

import type { Duplex } from 'node:stream';
import { HEALTH_CHECKS_ANNOTATION } from '../../compile/index.ts';
import {
  AlderError,
  ErrorCode,
  isAlderError,
  type Resource,
  type WorkloadEntrySpec,
  type WorkloadGroupSpec,
} from '../../config/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import {
  diffResources,
  type Hello,
  MAX_STREAM_WORKLOADS,
  type ProxyMessage,
  type ProxyStatusRow,
  RESOURCE_TYPES,
  type ResourceDelta,
  type ResourceType,
  STREAM_SILENCE_MS,
  WIRE_VERSION,
} from '../../wire/index.ts';
import type { Store } from '../store/index.ts';
import type { AutoRegistry } from './auto-registry.ts';
import { ConfigMirror } from './config-mirror.ts';
import { type ConnectionPeer, ProxyConnection } from './proxy-connection.ts';
import { ProxyResources } from './proxy-resources.ts';
import { type InFlight, ProxySession } from './proxy-session.ts';
import { pushLine, signatureOf } from './push-line.ts';
import { PushMetrics } from './push-metrics.ts';
import { identityRefusal, knownOf, provenIdentity, readHello, workloadKey } from './stream-hello.ts';

export interface DistributorOptions {
  store: Store;
  log: Logger;
  /** Quiet time after a change before pushing (Istio's PILOT_DEBOUNCE_AFTER: 100 ms). */
  debounceMs?: number;
  /** Longest a burst of changes can delay a push (Istio's PILOT_DEBOUNCE_MAX is 10 s; ours is 1 s). */
  maxDelayMs?: number;
  /** The mesh's trust bundle now (PEM), pushed to every proxy. */
  trustBundle?: () => string;
  /**
   * The roots a hello's proof must lead to (PEM): those the mesh port checks client certificates
   * against. Defaults to `trustBundle`.
   */
  clientTrustBundle?: () => string;
  /** Keeps auto-registered WorkloadEntries while their proxies are connected. */
  autoRegistry?: AutoRegistry;
}

export type ProxyStatus = ProxyStatusRow;

/** Longest a drain waits for the other proxies before it answers with those still pending. */
export const DRAIN_WAIT_MS = 10_000;

/** A workload draining: answered once every other proxy holds `generation` (which leaves it out). */
interface DrainWaiter {
  session: ProxySession;
  generation: number;
  timer: NodeJS.Timeout;
}

export class Distributor {
  readonly metrics = new PushMetrics();
  readonly #store: Store;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #maxDelayMs: number;
  readonly #trustBundle: () => string | undefined;
  readonly #clientTrustBundle: () => string | undefined;
  readonly #registry: AutoRegistry | undefined;
  readonly #mirror = new ConfigMirror();
  readonly #resources = new ProxyResources();
  readonly #connections = new Map<string, ProxyConnection>();
  /** Every open session, of every connection. */
  readonly #sessions = new Set<ProxySession>();
  /** `namespace/name` → open sessions for it: a close checks it in O(1), not a scan of every session. */
  readonly #streamsOf = new Map<string, number>();
  /** `namespace/name` → why: workloads whose proxy disconnected or whose app fails its probe. */
  readonly #down = new Map<string, string>();
  #generationRevision = 0;
  /** Counts computations: a proxy that holds generation g holds every change computed up to it. */
  #generation = 0;
  readonly #drains = new Set<DrainWaiter>();
  /** When the oldest change not yet computed reached us. */
  #pendingSince: number | undefined;
  #changeSeenAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #lastSweep = performance.now();
  #nextId = 0;
  #nonce = 0;

  constructor(options: DistributorOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 1000;
    this.#trustBundle = options.trustBundle ?? (() => undefined);
    this.#clientTrustBundle = options.clientTrustBundle ?? this.#trustBundle;
    this.#registry = options.autoRegistry;
  }

  async start(): Promise<void> {
    this.#sweeper = setInterval(() => this.#sweep(), STREAM_SILENCE_MS / 4);
    this.#sweeper.unref();
    await this.#mirror.start(this.#store, () => this.#changed());
    this.#update();
    const entries = this.#mirror.resources().filter((r) => r.kind === 'WorkloadEntry');
    this.#registry?.adopt(entries, (workload) => this.#streamsOf.has(workload));
  }

  /** Something besides the store changed (the trust bundle): every proxy gets it. */
  refresh(): void {
    this.#changed();
  }

  stop(): void {
    clearInterval(this.#sweeper);
    clearTimeout(this.#timer);
    for (const w of this.#drains) clearTimeout(w.timer);
    this.#drains.clear();
    this.#mirror.stop();
    for (const c of this.#connections.values()) c.close('control plane stopping');
  }

  /** The newest store revision pushes are computed from. */
  get revision(): number {
    return this.#generationRevision;
  }

  /** Takes over an upgraded, authenticated stream. */
  attach(socket: Duplex, peer: ConnectionPeer): void {
    const id = `proxy-${++this.#nextId}`;
    const connection = new ProxyConnection(id, socket, peer, {
      onMessage: (c, m) => this.#onMessage(c, m),
      onClose: (c, reason) => {
        this.#connections.delete(c.id);
        if (c.sessions.size === 0) this.#log.info('proxy disconnected', { proxy: c.id, reason });
        for (const s of [...c.sessions.values()]) this.#endSession(s, reason);
      },
    });
    this.#connections.set(id, connection);
  }

  /**
   * A workload's session ends (its connection closed, or it said goodbye, or it was refused): the
   * workload counts as disconnected, out of rotation once no other session speaks for it.
   */
  #endSession(s: ProxySession, reason: string): void {
    if (!s.end()) return;
    s.connection.sessions.delete(s.workloadName);
    this.#sessions.delete(s);
    for (const w of this.#drains) if (w.session === s) this.#endDrain(w);
    this.#checkDrains();
    const name = s.workloadName;
    this.#log.info('proxy disconnected', { proxy: s.connection.id, workload: name, reason });
    const left = (this.#streamsOf.get(name) ?? 1) - 1;
    if (left > 0) {
      this.#streamsOf.set(name, left);
      return;
    }
    this.#streamsOf.delete(name);
    this.#setDown(name, s.saidGoodbye ? 'stopped' : `proxy disconnected: ${reason}`);
    const entry = this.#mirror.get('WorkloadEntry', s.workload.namespace, s.workload.name);
    this.#registry?.disconnected(entry, s.saidGoodbye);
  }

  /**
   * Refuses a workload on its connection (ALDER_FORBIDDEN: its session, if it had one, ends). A
   * connection that speaks for one workload only is closed with it, as its proxy retries after
   * back-off; a node proxy's stays open for its other workloads.
   */
  #refuse(c: ProxyConnection, hello: Hello, message: string, session?: ProxySession): void {
    c.sendMessage({ error: { code: ErrorCode.Forbidden, message, workload: hello.workload } });
    this.#log.warn('workload refused on its stream', {
      proxy: c.id,
      workload: workloadName(hello),
      error: message,
    });
    if (session !== undefined) {
      session.lastError = message;
      this.#endSession(session, message);
    }
    if (!c.isShared && c.sessions.size === 0) c.close(message);
  }

  status(): ProxyStatus[] {
    const rows: ProxyStatus[] = [];
    for (const s of this.#sessions) rows.push(s.statusRow());
    return rows;
  }

  metricsText(): string {
    return this.metrics.text(this.#connections.size, this.#sessions.size);
  }

  #changed(): void {
    const now = performance.now();
    this.#pendingSince ??= now;
    clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#debounceMs, this.#pendingSince + this.#maxDelayMs - now));
    this.#timer = setTimeout(() => this.#compute(), wait);
  }

  /** A new generation: every proxy gets what changed for it. */
  #compute(): void {
    this.#changeSeenAt = this.#pendingSince ?? performance.now();
    this.#pendingSince = undefined;
    this.#update();
    this.#generation++;
    for (const s of this.#sessions) this.#pushTo(s);
    this.#checkDrains();
    this.#log.debug('config generation pushed', {
      revision: this.#generationRevision,
      shapes: this.#resources.compiledShapes,
      proxies: this.#connections.size,
      workloads: this.#sessions.size,
    });
  }

  /**
   * Drops streams silent past STREAM_SILENCE_MS (a proxy whose host went away without a FIN). A
   * sweep that itself ran late (this process was stalled) only resets the clocks: the silence may
   * be ours.
   */
  #sweep(): void {
    const now = performance.now();
    const isLate = now - this.#lastSweep > STREAM_SILENCE_MS / 2;
    this.#lastSweep = now;
    for (const c of this.#connections.values()) {
      if (isLate) c.lastSeen = now;
      else if (now - c.lastSeen > STREAM_SILENCE_MS)
        c.close(`no word from the proxy for ${STREAM_SILENCE_MS / 1000}s`);
    }
  }

  /** Config of this generation: WorkloadEntries whose proxy is gone or app unhealthy are withheld. */
  #update(): void {
    const all = this.#mirror.resources();
    const withheld: Resource[] = [];
    const compiled =
      this.#down.size === 0
        ? all
        : all.filter((r) => {
            const isDown =
              r.kind === 'WorkloadEntry' &&
              this.#down.has(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`);
            if (isDown) withheld.push(r);
            return !isDown;
          });
    this.#resources.update(compiled, this.#trustBundle(), withheld);
    this.#generationRevision = this.#mirror.revision;
    // A workload whose entry is gone and whose proxy is away is forgotten (the map stays bounded).
    for (const name of this.#down.keys()) {
      const [namespace, entryName] = name.split('/') as [string, string];
      if (!this.#streamsOf.has(name) && this.#mirror.get('WorkloadEntry', namespace, entryName) === undefined)
        this.#down.delete(name);
    }
  }

  /** Marks a workload out of (reason) or back in (undefined) every caller's endpoints. */
  #setDown(workload: string, reason: string | undefined): void {
    const was = this.#down.get(workload);
    if (reason === undefined) {
      if (was === undefined) return;
      this.#down.delete(workload);
      this.#log.info('workload back in rotation', { workload });
    } else {
      if (was !== undefined) return;
      this.#down.set(workload, reason);
      this.#log.info('workload out of rotation', { workload, reason });
    }
    this.#changed();
  }

  /** Workloads withheld from callers' endpoints, with why. */
  downWorkloads(): Record<string, string> {
    return Object.fromEntries(this.#down);
  }

  #onMessage(c: ProxyConnection, m: ProxyMessage): void {
    if ('ping' in m) return;
    if ('hello' in m) {
      this.#onHello(c, m.hello);
      return;
    }
    const kind = Object.keys(m)[0] ?? '';
    const body: unknown = (m as Record<string, unknown>)[kind];
    const name = workloadKey((body as { workload?: unknown } | null)?.workload);
    if (name === undefined) {
      c.close(
        ['ack', 'nack', 'health', 'goodbye', 'drain'].includes(kind)
          ? `a ${kind} that names no workload`
          : 'unknown stream message',
      );
      return;
    }
    // A workload without a session here was refused or said goodbye: its late word is dropped.
    const s = c.sessions.get(name);
    if (s === undefined) return;
    if ('ack' in m) {
      const push = s.inFlight;
      if (push === undefined || push.nonce !== m.ack.nonce) return;
      s.inFlight = undefined;
      s.acknowledge(push);
      s.syncedGeneration = Math.max(s.syncedGeneration, push.generation);
      this.metrics.observeConvergence((performance.now() - push.changeSeenAt) / 1000);
      this.#again(s);
      this.#checkDrains();
      return;
    }
    if ('nack' in m) {
      const push = s.inFlight;
      if (push === undefined || push.nonce !== m.nack.nonce) return;
      s.inFlight = undefined;
      const error = String(m.nack.error).slice(0, 4096);
      s.refuse(push, error);
      for (const type of Object.keys(push.delta) as ResourceType[]) this.metrics.countNack(type);
      this.#log.warn('proxy refused a push', { proxy: c.id, workload: name, error });
      this.#again(s);
      return;
    }
    if ('health' in m) {
      if (s.isDraining) return;
      s.health = { healthy: Boolean(m.health.healthy), reason: String(m.health.reason).slice(0, 1024) };
      this.#setDown(name, s.health.healthy ? undefined : `unhealthy: ${s.health.reason}`);
      return;
    }
    if ('goodbye' in m) {
      s.saidGoodbye = true;
      this.#endSession(s, 'said goodbye');
      return;
    }
    if ('drain' in m) {
      this.#onDrain(s);
      return;
    }
    c.close('unknown stream message');
  }

  /**
   * The workload's app is stopping: it leaves every caller's endpoints, and its proxy hears
   * `drained` once every other proxy has acknowledged config without it (or DRAIN_WAIT_MS passed).
   */
  #onDrain(s: ProxySession): void {
    if (s.isDraining) return;
    s.isDraining = true;
    const name = s.workloadName;
    const wasDown = this.#down.has(name);
    this.#down.delete(name);
    this.#down.set(name, 'draining: its app is stopping');
    if (!wasDown) {
      this.#log.info('workload out of rotation', { workload: name, reason: 'draining' });
      this.#changed();
    }
    // Its absence is in the next generation, or already in this one when it was out before.
    const generation = wasDown ? this.#generation : this.#generation + 1;
    const waiter: DrainWaiter = {
      session: s,
      generation,
      timer: setTimeout(() => this.#endDrain(waiter), DRAIN_WAIT_MS),
    };
    this.#drains.add(waiter);
    this.#checkDrains();
  }

  /** Answers each drain whose generation every other configured proxy holds. */
  #checkDrains(): void {
    for (const w of this.#drains) {
      if (this.#pendingFor(w).length === 0) this.#endDrain(w);
    }
  }

  #pendingFor(w: DrainWaiter): string[] {
    if (this.#generation < w.generation) return ['(not computed yet)'];
    const pending: string[] = [];
    for (const s of this.#sessions) {
      if (s !== w.session && s.syncedGeneration < w.generation) pending.push(s.id);
    }
    return pending;
  }

  #endDrain(w: DrainWaiter): void {
    if (!this.#drains.delete(w)) return;
    clearTimeout(w.timer);
    const hello = w.session.hello;
    const pending = this.#pendingFor(w);
    const synced = this.#sessions.size - (this.#sessions.has(w.session) ? 1 : 0);
    w.session.sendMessage({
      drained: { workload: hello.workload, synced: synced - pending.length, pending },
    });
    this.#log.info('workload drained from callers', {
      workload: workloadName(hello),
      synced: synced - pending.length,
      pending: pending.length,
    });
  }

  #again(s: ProxySession): void {
    if (!s.isDirty) return;
    s.isDirty = false;
    this.#pushTo(s);
  }

  /**
   * A workload's hello opens its session on the connection, once it may speak for the workload:
   * with a proof, as the proof's certificate; without, as the connection's. A refused hello opens
   * nothing and changes nothing of the workload's state.
   */
  #onHello(c: ProxyConnection, said: unknown): void {
    const hello = readHello(said);
    if (typeof hello === 'string') {
      c.close(hello);
      return;
    }
    const name = workloadName(hello);
    if (c.sessions.has(name)) {
      c.close(`a second hello for ${name} on one stream`);
      return;
    }
    if (hello.wireVersion !== WIRE_VERSION) {
      c.sendMessage({
        error: {
          code: ErrorCode.SnapshotInvalid,
          message: `this control plane speaks wire version ${WIRE_VERSION}, the proxy ${hello.wireVersion}`,
          hint: 'run the same Alder version on the proxy and the control plane',
          workload: hello.workload,
        },
      });
      c.close('wire version mismatch');
      return;
    }
    let spiffeId = c.spiffeId;
    if (hello.proof !== undefined) {
      c.isShared = true;
      try {
        spiffeId = provenIdentity(hello.proof, c.proofMaterial, this.#clientTrustBundle() ?? '');
      } catch (err) {
        this.#refuse(c, hello, `workload ${name}: ${(err as Error).message}`);
        return;
      }
    }
    if (c.sessions.size >= MAX_STREAM_WORKLOADS) {
      this.#refuse(
        c,
        hello,
        `workload ${name}: this stream carries its maximum of ${MAX_STREAM_WORKLOADS} workloads`,
      );
      return;
    }
    const entry = this.#mirror.get('WorkloadEntry', hello.workload.namespace, hello.workload.name) as
      | Resource<WorkloadEntrySpec>
      | undefined;
    const refusal = entry === undefined ? undefined : identityRefusal(spiffeId, entry, name);
    if (refusal !== undefined) {
      this.#refuse(c, hello, refusal);
      return;
    }
    const s = new ProxySession({ connection: c, hello, spiffeId });
    c.sessions.set(name, s);
    this.#sessions.add(s);
    s.known = knownOf(hello.known);
    const others = this.#streamsOf.get(name) ?? 0;
    this.#streamsOf.set(name, others + 1);
    this.#registry?.connected(name);
    // A second session for the workload (its proxy back before its old stream timed out) leaves
    // its rotation as the sessions' reports made it: it says its own health and drain on connect.
    if (others === 0) {
      const isProbed = entry?.metadata.annotations?.[HEALTH_CHECKS_ANNOTATION] === 'true';
      this.#setDown(name, isProbed ? 'waiting for its first readiness probe' : undefined);
    }
    this.#log.info('proxy connected', { proxy: c.id, workload: name, identity: spiffeId });
    if (entry === undefined && hello.autoRegister !== undefined) this.#registerAgain(s, hello);
    this.#pushTo(s, performance.now());
  }

  /**
   * A member of a WorkloadGroup reconnected after its entry expired (a long outage, or a control
   * plane that restarted): the entry is made again from its group, for the identity it proved.
   */
  #registerAgain(s: ProxySession, hello: Hello): void {
    const refuse = (message: string) => {
      if (s.isOpen) this.#refuse(s.connection, hello, message, s);
    };
    const namespace = hello.workload.namespace;
    const groupName = String(hello.autoRegister?.group);
    const group = this.#mirror.get('WorkloadGroup', namespace, groupName) as
      | Resource<WorkloadGroupSpec>
      | undefined;
    if (group === undefined || this.#registry === undefined) {
      refuse(
        `WorkloadGroup ${namespace}/${groupName} is gone: workload ${workloadName(hello)} cannot register again`,
      );
      return;
    }
    s.isRegistering = true;
    this.#registry.registerAgain(group, hello, s.spiffeId).then(
      () => {
        s.isRegistering = false;
      },
      (err: unknown) => {
        s.isRegistering = false;
        refuse((err as Error).message);
      },
    );
  }

  #pushTo(s: ProxySession, changeSeenAt = this.#changeSeenAt): void {
    if (!s.isOpen) return;
    if (s.inFlight !== undefined) {
      s.isDirty = true;
      return;
    }
    const hello = s.hello;
    let delta: ResourceDelta;
    try {
      const desired = this.#resources.forWorkload(hello.workload, hello.outboundProxy ?? null);
      const want = desired.entry.spec?.serviceAccount || 'default';
      const spiffe = desired.set.proxy.get('proxy')?.body.proxy.spiffeId;
      if (spiffe !== s.spiffeId) {
        throw new AlderError(
          ErrorCode.Forbidden,
          `the certificate names ${s.spiffeId}, but WorkloadEntry ${s.workloadName} runs as service account ${want} (${spiffe})`,
          { hint: 'join with a token for that service account' },
        );
      }
      s.workloadAddress = desired.entry.spec?.address ?? '';
      delta = diffResources(s.known, desired.set);
    } catch (err) {
      // Its entry is being written, or written and not computed yet (a proxy that joined a moment
      // ago): the push follows when the change is computed.
      if (s.isRegistering || this.#pendingSince !== undefined) return;
      const message = isAlderError(err) ? err.message : `cannot compile: ${(err as Error).message}`;
      const code = isAlderError(err) ? err.code : ErrorCode.CompileFailed;
      if (code === ErrorCode.Forbidden) {
        this.#refuse(s.connection, hello, message, s);
        return;
      }
      if (s.lastError !== message)
        this.#log.warn('cannot configure proxy', {
          proxy: s.connection.id,
          workload: s.workloadName,
          error: message,
        });
      s.lastError = message;
      s.sendMessage({ error: { code, message, workload: hello.workload } });
      return;
    }
    const types = RESOURCE_TYPES.filter((t) => delta[t] !== undefined);
    if (types.length === 0) {
      s.inSync(this.#generationRevision);
      s.syncedGeneration = this.#generation;
      return;
    }
    const signature = signatureOf(delta);
    if (signature === s.refusedSignature) return; // refused as is: wait for a change
    const nonce = String(++this.#nonce);
    const line = pushLine(
      { workload: hello.workload, nonce, revision: this.#generationRevision, delta, types },
      this.metrics,
    );
    const push: InFlight = {
      nonce,
      revision: this.#generationRevision,
      delta,
      signature,
      changeSeenAt,
      generation: this.#generation,
    };
    s.inFlight = push;
    s.send(line);
  }
}

function workloadName(hello: Hello): string {
  return `${hello.workload.namespace}/${hello.workload.name}`;
}
