// One proxy's stream, on the control plane's side: reads its lines (bounded), keeps what it has
// acknowledged per type, the one push in flight, and the per-type status `alder proxy-status` shows.
// Owns no policy: the distributor decides what to send.

import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  type Hello,
  type KnownVersions,
  LineReader,
  MAX_PROXY_LINE_BYTES,
  PING_LINE,
  type PlaneMessage,
  type ProxyMessage,
  type ProxyStatusRow,
  RESOURCE_TYPES,
  type ResourceDelta,
  type ResourceType,
  type TypeDelta,
} from '../../wire/index.ts';
import { LineWriter } from './line-writer.ts';

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

const PING_BYTES = Buffer.from(PING_LINE);

/** A proxy whose unsent output passes this is not reading: it is dropped and reconnects. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

export interface SessionHandlers {
  onMessage(session: ProxySession, message: ProxyMessage): void;
  onClose(session: ProxySession, reason: string): void;
}

export class ProxySession {
  readonly id: string;
  readonly spiffeId: string;
  readonly address: string;
  readonly connectedAt = new Date();
  readonly #socket: Duplex;
  readonly #writer: LineWriter;
  hello: Hello | undefined;
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
  /** The proxy said it is stopping: its workload leaves rotation without waiting. */
  saidGoodbye = false;
  /** Its app is stopping: the workload stays out of rotation whatever its probe says. */
  isDraining = false;
  /** The newest generation of the distributor this proxy holds (acknowledged, or nothing changed for it). */
  syncedGeneration = 0;
  /** The WorkloadEntry's address, once the proxy is configured. */
  workloadAddress = '';
  /** When the proxy last sent anything (performance.now()). */
  lastSeen = performance.now();
  #closed = false;

  constructor(
    id: string,
    socket: Duplex,
    peer: { spiffeId: string; address: string },
    handlers: SessionHandlers,
  ) {
    this.id = id;
    this.#socket = socket;
    this.#writer = new LineWriter(socket);
    this.spiffeId = peer.spiffeId;
    this.address = peer.address;
    const lines = new LineReader(MAX_PROXY_LINE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      // Pings are most of what proxies send (10,000 proxies: 5,000 a second) and only prove the
      // proxy is there: a chunk that is exactly one ping skips the line reader and JSON.parse.
      if (chunk.length === PING_BYTES.length && !lines.isMidLine && chunk.equals(PING_BYTES)) {
        this.lastSeen = performance.now();
        return;
      }
      let got: string[];
      try {
        got = lines.push(chunk);
      } catch (err) {
        this.close((err as Error).message);
        return;
      }
      this.lastSeen = performance.now();
      for (const line of got) {
        if (line === '') continue;
        let message: ProxyMessage;
        try {
          message = JSON.parse(line) as ProxyMessage;
        } catch {
          this.close('a stream message is not JSON');
          return;
        }
        if (this.#closed) return;
        handlers.onMessage(this, message);
      }
    });
    const closed = (reason: string) => {
      if (this.#closed) return;
      this.#closed = true;
      handlers.onClose(this, reason);
    };
    socket.on('close', () => closed('stream closed'));
    socket.on('error', (err) => closed(err.message));
    socket.on('end', () => socket.end());
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  /**
   * Sends a line, whole or as parts to be joined; a proxy that stopped reading is dropped rather
   * than buffered without bound.
   */
  send(line: string | readonly string[]): void {
    if (this.#closed) return;
    if (this.#writer.unsentChars > MAX_UNSENT_BYTES) {
      this.close('the proxy is not reading its stream');
      return;
    }
    this.#writer.write(line);
  }

  sendMessage(message: PlaneMessage): void {
    this.send(`${JSON.stringify(message)}\n`);
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#socket.destroy(new Error(reason));
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

  /** This proxy's row of `alder proxy-status`; undefined before its hello. */
  statusRow(): ProxyStatusRow | undefined {
    const hello = this.hello;
    if (hello === undefined) return undefined;
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
      workload: `${hello.workload.namespace}/${hello.workload.name}`,
      address: this.workloadAddress,
      peer: this.address,
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
