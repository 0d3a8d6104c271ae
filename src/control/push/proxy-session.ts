// One workload's session on a proxy's stream, on the control plane's side: the hello it said, what
// it has acknowledged per type, the one push in flight, its health and drain, and the per-type
// status `alder proxy-status` shows. A connection (proxy-connection.ts) carries one session per
// workload that said hello on it. Owns no policy: the distributor decides what to send.

import { createHash } from 'node:crypto';
import {
  type Hello,
  type KnownVersions,
  type PlaneMessage,
  type ProxyStatusRow,
  RESOURCE_TYPES,
  type ResourceDelta,
  type ResourceType,
  type TypeDelta,
  type WorkloadRef,
} from '../../wire/index.ts';
import type { ProxyConnection } from './proxy-connection.ts';

export type TypeState = 'SYNCED' | 'STALE' | 'NACKED';

export interface InFlight {
  nonce: string;
  revision: number;
  delta: ResourceDelta;
  /** Identifies the content sent, so a refused push is not sent again unchanged. */
  signature: string;
  /** When the oldest change this push carries reached the control plane (ms, performance.now()). */
  changeSeenAt: number;
  /** The distributor's generation the push was computed in. */
  generation: number;
}

export class ProxySession {
  /** `proxy-7/NAMESPACE/NAME`: the connection's id, then the workload. */
  readonly id: string;
  readonly connection: ProxyConnection;
  readonly hello: Hello;
  /** `namespace/name` */
  readonly workloadName: string;
  /**
   * Who the session speaks as: the SPIFFE ID its hello's proof verified, else the connection's
   * client certificate's. Every check of what the workload may hold uses this.
   */
  readonly spiffeId: string;
  readonly connectedAt = new Date();
  /** Names → versions per type, as the proxy has acknowledged them. */
  #known: KnownVersions = {};
  /** versionOf's answers, until what the proxy holds of the type changes. */
  readonly #digests = new Map<ResourceType, string>();
  inFlight: InFlight | undefined;
  /** A change arrived while a push was in flight: compute again on its answer. */
  isDirty = false;
  /** The newest store revision this proxy is known to run (acknowledged, or nothing changed for it). */
  syncedRevision = 0;
  readonly states = new Map<ResourceType, { state: TypeState; error?: string }>();
  lastError: string | undefined;
  refusedSignature: string | undefined;
  health: { healthy: boolean; reason: string } | undefined;
  /** Its auto-registered WorkloadEntry is being written again (the proxy reconnected after it expired). */
  isRegistering = false;
  /** The proxy said its workload is stopping: it leaves rotation without waiting. */
  saidGoodbye = false;
  /** Its app is stopping: the workload stays out of rotation whatever its probe says. */
  isDraining = false;
  /** The newest generation of the distributor this proxy holds (acknowledged, or nothing changed for it). */
  syncedGeneration = 0;
  /** The WorkloadEntry's address, once the proxy is configured. */
  workloadAddress = '';
  #ended = false;

  constructor(o: { connection: ProxyConnection; hello: Hello; spiffeId: string }) {
    this.connection = o.connection;
    this.hello = o.hello;
    this.workloadName = `${o.hello.workload.namespace}/${o.hello.workload.name}`;
    this.id = `${o.connection.id}/${this.workloadName}`;
    this.spiffeId = o.spiffeId;
  }

  get workload(): WorkloadRef {
    return this.hello.workload;
  }

  get isOpen(): boolean {
    return !this.#ended && this.connection.isOpen;
  }

  /** Marks the session ended (its connection may go on); false when it already was. */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    return true;
  }

  /** Sends a line on the connection, while the session is open. */
  send(line: string | readonly string[]): void {
    if (this.isOpen) this.connection.send(line);
  }

  sendMessage(message: PlaneMessage): void {
    this.send(`${JSON.stringify(message)}\n`);
  }

  /** Records an acknowledged push: its versions become what the proxy holds. */
  acknowledge(push: InFlight): void {
    for (const type of RESOURCE_TYPES) {
      const d = push.delta[type] as TypeDelta | undefined;
      if (d === undefined) continue;
      // In place: `known` is this session's own (its hello's, or built here), nothing else holds it.
      this.#digests.delete(type);
      const had = this.#known[type] ?? {};
      for (const name of d.remove) delete had[name];
      for (const r of d.upsert) had[r.name] = r.version;
      this.#known[type] = had;
    }
    // A type the push did not carry already held what the proxy should have when it was computed.
    for (const type of RESOURCE_TYPES) this.states.set(type, { state: 'SYNCED' });
    this.syncedRevision = Math.max(this.syncedRevision, push.revision);
    this.lastError = undefined;
    this.refusedSignature = undefined;
  }

  /** Nothing to send: the proxy holds what it should (a refused change may have been undone). */
  inSync(revision: number): void {
    this.syncedRevision = Math.max(this.syncedRevision, revision);
    for (const type of RESOURCE_TYPES) this.states.set(type, { state: 'SYNCED' });
    this.lastError = undefined;
    this.refusedSignature = undefined;
  }

  refuse(push: InFlight, error: string): void {
    for (const type of Object.keys(push.delta) as ResourceType[])
      this.states.set(type, { state: 'NACKED', error });
    this.lastError = error;
    this.refusedSignature = push.signature;
  }

  /** Per type: the digest of what the proxy holds, for proxy-status. */
  versionOf(type: ResourceType): string {
    const cached = this.#digests.get(type);
    if (cached !== undefined) return cached;
    const m = this.#known[type] ?? {};
    const h = createHash('sha256');
    for (const name of Object.keys(m).sort()) h.update(`${name}@${m[name]}\n`);
    const digest = h.digest('base64url').slice(0, 12);
    this.#digests.set(type, digest);
    return digest;
  }

  /** This workload's row of `alder proxy-status`. */
  statusRow(): ProxyStatusRow {
    const hello = this.hello;
    const types: ProxyStatusRow['types'] = {};
    for (const type of RESOURCE_TYPES) {
      const st = this.states.get(type);
      // Sent and not answered yet is STALE, even over an earlier refusal: the answer may clear it.
      const isSent = this.inFlight?.delta[type] !== undefined;
      types[type] = {
        state: isSent || st === undefined ? 'STALE' : st.state,
        version: this.versionOf(type),
        ...(st?.error === undefined ? {} : { error: st.error }),
      };
    }
    return {
      id: this.id,
      workload: this.workloadName,
      address: this.workloadAddress,
      peer: this.connection.address,
      connection: this.connection.id,
      identity: this.spiffeId,
      agent: hello.agent,
      connectedAt: this.connectedAt.toISOString(),
      syncedRevision: String(this.syncedRevision),
      types,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(hello.certificateExpiry === undefined ? {} : { certificateExpiry: hello.certificateExpiry }),
      ...(this.health === undefined ? {} : { health: this.health }),
    };
  }

  /** What the proxy holds, per type: names → versions. */
  get known(): KnownVersions {
    return this.#known;
  }

  /** What the proxy said it holds when it connected. */
  set known(held: KnownVersions) {
    this.#known = held;
    this.#digests.clear();
  }
}
