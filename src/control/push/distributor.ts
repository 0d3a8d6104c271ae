// Distribution: follows the config (ConfigMirror), and after each burst of changes (debounced)
// computes what every connected proxy should hold (ProxyResources, once per shape) and sends each
// only what it lacks. One push in flight per proxy: a change that arrives meanwhile is folded into
// the next push, so a slow proxy gets the latest state, never a queue of intermediate ones.

import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { HEALTH_CHECKS_ANNOTATION } from '../../compile/index.ts';
import {
  AlderError,
  ErrorCode,
  isAlderError,
  type Resource,
  type WorkloadGroupSpec,
} from '../../config/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import {
  diffResources,
  type Hello,
  type KnownVersions,
  type ProxyMessage,
  type ProxyStatusRow,
  RESOURCE_TYPES,
  type ResourceDelta,
  type ResourceType,
  STREAM_SILENCE_MS,
  type TypeDelta,
  WIRE_VERSION,
  type WireResource,
} from '../../wire/index.ts';
import type { Store } from '../store/index.ts';
import type { AutoRegistry } from './auto-registry.ts';
import { ConfigMirror } from './config-mirror.ts';
import { ProxyResources } from './proxy-resources.ts';
import { type InFlight, ProxySession } from './proxy-session.ts';
import { PushMetrics } from './push-metrics.ts';

export interface DistributorOptions {
  store: Store;
  log: Logger;
  /** Quiet time after a change before pushing (Istio's PILOT_DEBOUNCE_AFTER: 100 ms). */
  debounceMs?: number;
  /** Longest a burst of changes can delay a push (Istio's PILOT_DEBOUNCE_MAX is 10 s; ours is 1 s). */
  maxDelayMs?: number;
  /** The mesh's trust bundle now (PEM), pushed to every proxy. */
  trustBundle?: () => string;
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

const encoded = new WeakMap<WireResource, string>();

function encode(r: WireResource): string {
  let text = encoded.get(r);
  if (text === undefined) {
    text = JSON.stringify(r);
    encoded.set(r, text);
  }
  return text;
}

export class Distributor {
  readonly metrics = new PushMetrics();
  readonly #store: Store;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #maxDelayMs: number;
  readonly #trustBundle: () => string | undefined;
  readonly #registry: AutoRegistry | undefined;
  readonly #mirror = new ConfigMirror();
  readonly #resources = new ProxyResources();
  readonly #sessions = new Map<string, ProxySession>();
  /** `namespace/name` → open streams that said hello for it: a close checks it in O(1), not a scan of every session. */
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
    for (const s of this.#sessions.values()) s.close('control plane stopping');
  }

  /** The newest store revision pushes are computed from. */
  get revision(): number {
    return this.#generationRevision;
  }

  /** Takes over an upgraded, authenticated stream. */
  attach(socket: Duplex, peer: { spiffeId: string; address: string }): void {
    const id = `proxy-${++this.#nextId}`;
    const session = new ProxySession(id, socket, peer, {
      onMessage: (s, m) => this.#onMessage(s, m),
      onClose: (s, reason) => {
        this.#sessions.delete(s.id);
        for (const w of this.#drains) if (w.session === s) this.#endDrain(w);
        this.#checkDrains();
        this.#log.info('proxy disconnected', { proxy: s.id, workload: workloadName(s.hello), reason });
        const name = workloadName(s.hello);
        if (name === '') return;
        const left = (this.#streamsOf.get(name) ?? 1) - 1;
        if (left > 0) this.#streamsOf.set(name, left);
        else {
          this.#streamsOf.delete(name);
          this.#setDown(name, s.saidGoodbye ? 'stopped' : `proxy disconnected: ${reason}`);
          const hello = s.hello as Hello;
          const entry = this.#mirror.get('WorkloadEntry', hello.workload.namespace, hello.workload.name);
          this.#registry?.disconnected(entry, s.saidGoodbye);
        }
      },
    });
    this.#sessions.set(id, session);
  }

  status(): ProxyStatus[] {
    const rows: ProxyStatus[] = [];
    for (const s of this.#sessions.values()) {
      const row = s.statusRow();
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  metricsText(): string {
    return this.metrics.text(this.#sessions.size);
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
    for (const s of this.#sessions.values()) if (s.hello !== undefined) this.#pushTo(s);
    this.#checkDrains();
    this.#log.debug('config generation pushed', {
      revision: this.#generationRevision,
      shapes: this.#resources.compiledShapes,
      proxies: this.#sessions.size,
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
    for (const s of this.#sessions.values()) {
      if (isLate) s.lastSeen = now;
      else if (now - s.lastSeen > STREAM_SILENCE_MS)
        s.close(`no word from the proxy for ${STREAM_SILENCE_MS / 1000}s`);
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

  #onMessage(s: ProxySession, m: ProxyMessage): void {
    if ('hello' in m) {
      this.#onHello(s, m.hello);
      return;
    }
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
      this.#log.warn('proxy refused a push', { proxy: s.id, workload: workloadName(s.hello), error });
      this.#again(s);
      return;
    }
    if ('health' in m) {
      if (s.hello === undefined || s.isDraining) return;
      s.health = { healthy: Boolean(m.health.healthy), reason: String(m.health.reason).slice(0, 1024) };
      this.#setDown(workloadName(s.hello), s.health.healthy ? undefined : `unhealthy: ${s.health.reason}`);
      return;
    }
    if ('ping' in m) return;
    if ('goodbye' in m) {
      s.saidGoodbye = true;
      return;
    }
    if ('drain' in m) {
      this.#onDrain(s);
      return;
    }
    s.close('unknown stream message');
  }

  /**
   * The workload's app is stopping: it leaves every caller's endpoints, and its proxy hears
   * `drained` once every other proxy has acknowledged config without it (or DRAIN_WAIT_MS passed).
   */
  #onDrain(s: ProxySession): void {
    if (s.hello === undefined || s.isDraining) return;
    s.isDraining = true;
    const name = workloadName(s.hello);
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
    for (const s of this.#sessions.values()) {
      if (s !== w.session && s.hello !== undefined && s.syncedGeneration < w.generation) pending.push(s.id);
    }
    return pending;
  }

  #endDrain(w: DrainWaiter): void {
    if (!this.#drains.delete(w)) return;
    clearTimeout(w.timer);
    const hello = w.session.hello as Hello;
    const pending = this.#pendingFor(w);
    const synced = [...this.#sessions.values()].filter(
      (s) => s !== w.session && s.hello !== undefined,
    ).length;
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

  #onHello(s: ProxySession, hello: Hello): void {
    if (s.hello !== undefined) {
      s.close('a second hello on one stream');
      return;
    }
    if (hello.wireVersion !== WIRE_VERSION) {
      s.sendMessage({
        error: {
          code: ErrorCode.SnapshotInvalid,
          message: `this control plane speaks wire version ${WIRE_VERSION}, the proxy ${hello.wireVersion}`,
          hint: 'run the same Alder version on the proxy and the control plane',
        },
      });
      s.close('wire version mismatch');
      return;
    }
    s.hello = hello;
    s.known = knownOf(hello.known);
    const name = workloadName(hello);
    this.#streamsOf.set(name, (this.#streamsOf.get(name) ?? 0) + 1);
    this.#registry?.connected(name);
    const entry = this.#mirror.get('WorkloadEntry', hello.workload.namespace, hello.workload.name);
    if (entry === undefined && hello.autoRegister !== undefined) this.#registerAgain(s, hello);
    const isProbed = entry?.metadata.annotations?.[HEALTH_CHECKS_ANNOTATION] === 'true';
    if (isProbed && s.health === undefined) this.#setDown(name, 'waiting for its first readiness probe');
    else if (s.health?.healthy !== false) this.#setDown(name, undefined);
    this.#log.info('proxy connected', { proxy: s.id, workload: name, identity: s.spiffeId });
    this.#pushTo(s, performance.now());
  }

  /**
   * A member of a WorkloadGroup reconnected after its entry expired (a long outage, or a control
   * plane that restarted): the entry is made again from its group, for the identity it proved.
   */
  #registerAgain(s: ProxySession, hello: Hello): void {
    const refuse = (message: string) => {
      s.lastError = message;
      s.sendMessage({ error: { code: ErrorCode.Forbidden, message } });
      s.close(message);
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
    if (s.inFlight !== undefined) {
      s.isDirty = true;
      return;
    }
    const hello = s.hello as Hello;
    let delta: ResourceDelta;
    try {
      const desired = this.#resources.forWorkload(hello.workload, hello.outboundProxy ?? null);
      const want = desired.entry.spec?.serviceAccount || 'default';
      const spiffe = desired.set.proxy.get('proxy')?.body.proxy.spiffeId;
      if (spiffe !== s.spiffeId) {
        throw new AlderError(
          ErrorCode.Forbidden,
          `the proxy's certificate names ${s.spiffeId}, but WorkloadEntry ${workloadName(hello)} runs as service account ${want} (${spiffe})`,
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
      if (s.lastError !== message) this.#log.warn('cannot configure proxy', { proxy: s.id, error: message });
      s.lastError = message;
      const code = isAlderError(err) ? err.code : ErrorCode.CompileFailed;
      s.sendMessage({ error: { code, message } });
      if (code === ErrorCode.Forbidden) s.close(message);
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
    // The line as parts: the resources' encodings are shared by every proxy that gets them, and
    // are not copied into one string per proxy (see line-writer.ts).
    const header = `{"push":{"workload":${JSON.stringify(hello.workload)},"nonce":"${nonce}","revision":"${this.#generationRevision}","resources":{`;
    const line = [header];
    let lineChars = header.length;
    for (const [i, type] of types.entries()) {
      const d = delta[type] as TypeDelta;
      const open = `${i === 0 ? '' : ','}"${type}":{"upsert":[`;
      const close = `],"remove":${JSON.stringify(d.remove)}}`;
      let chars = open.length + close.length + Math.max(0, d.upsert.length - 1);
      line.push(open);
      for (const [k, r] of d.upsert.entries()) {
        const text = encode(r);
        if (k > 0) line.push(',');
        line.push(text);
        chars += text.length;
      }
      line.push(close);
      lineChars += chars;
      this.metrics.countPush(type, chars);
    }
    line.push('}}}\n');
    lineChars += 4;
    this.metrics.pushMessages++;
    this.metrics.pushMessageBytes += lineChars;
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

function signatureOf(delta: ResourceDelta): string {
  const h = createHash('sha256');
  for (const type of RESOURCE_TYPES) {
    const d = delta[type] as TypeDelta | undefined;
    if (d === undefined) continue;
    for (const r of d.upsert) h.update(`${type}+${r.name}@${r.version}\n`);
    for (const n of d.remove) h.update(`${type}-${n}\n`);
  }
  return h.digest('base64url');
}

/** What a hello says the proxy holds, kept only where it is names → version strings (it is the proxy's word). */
function knownOf(said: unknown): KnownVersions {
  const known: KnownVersions = {};
  if (typeof said !== 'object' || said === null) return known;
  for (const type of RESOURCE_TYPES) {
    const m: unknown = (said as Record<string, unknown>)[type];
    if (typeof m !== 'object' || m === null) continue;
    const versions: Record<string, string> = {};
    for (const [name, version] of Object.entries(m))
      if (typeof version === 'string') versions[name] = version;
    known[type] = versions;
  }
  return known;
}

function workloadName(hello: Hello | undefined): string {
  return hello === undefined ? '' : `${hello.workload.namespace}/${hello.workload.name}`;
}
