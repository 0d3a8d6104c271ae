// The transports under test and the messages between the benchmark's three processes: run.ts (the
// harness), client.ts (process A, the sending proxy) and server.ts (process B, the receiving proxy),
// over Node's IPC channel. Every message carries a `kind`; each side has one request out at a time.

export const TRANSPORTS = ['h1-pool', 'h2', 'hbone', 'h1-pipelined'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

export const TRANSPORT_TITLES: Record<TransportName, string> = {
  'h1-pool': '(a) HTTP/1.1, keep-alive pool',
  h2: '(b) HTTP/2, one session',
  hbone: '(c) HBONE, h2 CONNECT tunnels',
  'h1-pipelined': '(d) HTTP/1.1, pipelined + corked',
};

/** B's listening ports on 127.0.0.1, one per wire protocol. */
export interface Ports {
  /** mTLS, ALPN http/1.1: transports h1-pool and h1-pipelined. */
  h1: number;
  /** mTLS, ALPN h2, plain HTTP/2 requests. */
  h2: number;
  /** mTLS, ALPN h2, CONNECT streams each carrying one inner HTTP/1.1 connection. */
  hbone: number;
}

/** Certificate files of one side and the SPIFFE ID it requires of the other. */
export interface WorkloadTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  peerSpiffeId: string;
}

export type Phase =
  /** Open loop: request k is due at t0 + k / rps; latency counts from the due time. */
  | { kind: 'rate'; rps: number; durationS: number }
  /** Closed loop: `concurrency` requests in flight, each sent when the previous answer ends. */
  | { kind: 'max'; concurrency: number; durationS: number }
  /** New connections, each a full mTLS handshake plus one request, `concurrency` at a time. */
  | { kind: 'handshake'; concurrency: number; durationS: number };

/** What process A measured over one phase. Latencies in ms; `cpuS` is A's user + system CPU time. */
export interface LoadResult {
  completed: number;
  errors: number;
  elapsedS: number;
  /** Completed requests (or, for `handshake`, connections) per second. */
  achievedRps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Open loop only (NaN otherwise): how late A's event loop sent requests after their due time, a
   * part of the latency. Node's timers wake at 1 ms at best, which sets a floor under it.
   */
  sendLagP50Ms: number;
  sendLagP99Ms: number;
  cpuS: number;
}

export type ToClient =
  | { kind: 'phase'; transport: TransportName; ports: Ports; phase: Phase; drainS: number }
  /** Close the transport the phases so far have used (connections, sessions, tunnels). */
  | { kind: 'reset' }
  | { kind: 'exit' };

export type FromClient =
  | { kind: 'ready' }
  | { kind: 'result'; result: LoadResult }
  | { kind: 'reset-done' }
  | { kind: 'failed'; message: string };

export type ToServer = { kind: 'cpu' } | { kind: 'exit' };

export type FromServer = { kind: 'ready'; ports: Ports } | { kind: 'cpu'; seconds: number };

/** User + system CPU seconds this process has used so far. */
export function cpuSecondsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
