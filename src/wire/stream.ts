// The stream between a proxy and the control plane: one long-lived mTLS connection per proxy process,
// opened as an HTTP/1.1 upgrade to `alder-stream/1` on the control plane's mesh port, then one JSON
// object per line each way. Modelled on Delta xDS: the proxy says what it holds (hello), the control
// plane sends only changes (push, with a nonce), the proxy ACKs or NACKs each push with the error,
// and the control plane never has more than one push in flight per proxy, so a slow proxy gets the
// latest state rather than every intermediate one. Every message names its workload, so a node
// proxy carries all the workloads of its host over one stream: each says its own hello, proved with
// its own key when the connection's certificate is another workload's (see stream-proof.ts).

import type { KnownVersions, ResourceDelta, ResourceType } from './resources.ts';

export const STREAM_PROTOCOL = 'alder-stream/1';
export const STREAM_PATH = '/alder/v1/stream';

/** Most workloads one stream carries (a node proxy serves at most 250). */
export const MAX_STREAM_WORKLOADS = 256;

/** Largest line a control plane accepts from a proxy, and a proxy from the control plane. */
export const MAX_PROXY_LINE_BYTES = 1024 * 1024;
export const MAX_PLANE_LINE_BYTES = 64 * 1024 * 1024;

export interface WorkloadRef {
  namespace: string;
  name: string;
}

/** Proxy → control plane. */
export type ProxyMessage =
  | { hello: Hello }
  | { ack: { workload: WorkloadRef; nonce: string } }
  | { nack: { workload: WorkloadRef; nonce: string; error: string } }
  | { health: { workload: WorkloadRef; healthy: boolean; reason: string } }
  /** Sent every PING_INTERVAL_MS: a control plane that hears nothing for STREAM_SILENCE_MS drops the stream. */
  | { ping: Record<string, never> }
  /** The workload is stopping: it leaves callers' rotation now, and its session ends (the stream stays). */
  | { goodbye: { workload: WorkloadRef } }
  /**
   * The workload's app is about to stop: it leaves callers' rotation while its proxy stays connected
   * (its outbound keeps working); the control plane answers `drained` once every other proxy has it.
   */
  | { drain: { workload: WorkloadRef } };

export const PING_INTERVAL_MS = 2000;
/** A ping as proxies send it, one line: a control plane may recognise it without parsing. */
export const PING_LINE = '{"ping":{}}\n';
export const STREAM_SILENCE_MS = 4000;

export interface Hello {
  workload: WorkloadRef;
  /** What the proxy already holds (from before a reconnect, or from its disk): only changes come. */
  known: KnownVersions;
  wireVersion: number;
  /** `alder/0.1.0` */
  agent: string;
  /** Where the proxy serves apps' HTTP_PROXY traffic; null for nowhere. */
  outboundProxy: { address: string; port: number } | null;
  /** When the proxy's certificate expires (ISO 8601), for proxy-status. */
  certificateExpiry?: string;
  /**
   * Set when the workload joined as a member of a WorkloadGroup: if its WorkloadEntry expired while
   * the proxy was away, the control plane makes it again from the group.
   */
  autoRegister?: AutoRegistration;
  /**
   * Proof that the proxy holds this workload's key, for a stream opened with another workload's
   * certificate (a node proxy's). Without it the stream's own certificate must be the workload's.
   */
  proof?: StreamProof;
}

/** A workload's proof of identity on a stream opened with another certificate. */
export interface StreamProof {
  /** The workload's certificate chain (PEM, leaf first), as the mesh CA issued it. */
  certificateChain: string;
  /**
   * base64 of the leaf key's signature over this connection's exported keying material
   * (`streamProofMaterial`): good on this one TLS connection only.
   */
  signature: string;
}

/** How a workload's entry was made from its group: the group's name, its address and own labels. */
export interface AutoRegistration {
  group: string;
  address: string;
  labels?: Record<string, string>;
  /** Where its app listens, when it has an address of its own (`alder run`). */
  appAddress?: string;
}

/** What `alder run` says about the workload it starts, when it joins. */
export interface RunRegistration {
  namespace: string;
  service: string;
  serviceAccount: string;
  /** The `version` label, and the group's name suffix. */
  version?: string;
  /** The ports the app serves, named as Istio names them (`http-web`, `grpc`, `tcp-redis`). */
  ports: readonly { name: string; port: number }[];
}

/** The WorkloadGroup a run joins: `reviews-v2` for reviews at version v2, `reviews` without one. */
export function runGroupName(run: { service: string; version?: string }): string {
  return run.version ? `${run.service}-${run.version}` : run.service;
}

/** Control plane → proxy. */
export type PlaneMessage =
  | { push: Push }
  /**
   * The control plane cannot configure a workload (`workload` says which; absent: every workload of
   * the stream). ALDER_FORBIDDEN ends that workload's session: it is not configured until it says
   * hello again.
   */
  | { error: StreamError }
  | { drained: Drained };

export interface StreamError {
  code: string;
  message: string;
  hint?: string;
  workload?: WorkloadRef;
}

/** The answer to `drain`: how many proxies took the workload out of their endpoints in time. */
export interface Drained {
  workload: WorkloadRef;
  /** Proxies that acknowledged the config without the workload. */
  synced: number;
  /** Proxies that had not when the control plane stopped waiting (their ids). */
  pending: string[];
}

export interface Push {
  workload: WorkloadRef;
  nonce: string;
  /** The store revision the resources were computed from. */
  revision: string;
  resources: ResourceDelta;
}

/** The types a push carries, for per-type status. */
export function pushedTypes(push: Push): ResourceType[] {
  return Object.keys(push.resources) as ResourceType[];
}

/**
 * Splits a byte stream into lines, holding at most `maxBytes` of an unfinished line: past that the
 * peer is broken or hostile and `onOverflow` is called once (the caller closes the connection).
 */
export class LineReader {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #overflowed = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Part of a line is held, waiting for its end. */
  get isMidLine(): boolean {
    return this.#pendingBytes > 0;
  }

  /** The complete lines in `chunk` (with what came before); throws once past the bound. */
  push(chunk: Buffer): string[] {
    if (this.#overflowed) return [];
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      const part = chunk.subarray(start, nl);
      if (this.#pendingBytes > 0) {
        this.#pending.push(part);
        lines.push(Buffer.concat(this.#pending).toString('utf8'));
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        lines.push(part.toString('utf8'));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > this.#maxBytes) {
        this.#overflowed = true;
        this.#pending = [];
        throw new Error(`a stream message is over ${this.#maxBytes} bytes`);
      }
    }
    return lines;
  }
}

export function encodeMessage(message: ProxyMessage | PlaneMessage): string {
  return `${JSON.stringify(message)}\n`;
}
