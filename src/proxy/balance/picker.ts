// The contract between the balancer and its per-policy pickers: a picker is built over a fixed,
// non-empty list of hosts (one priority, healthy or all in panic) and only reads PickInput per pick.

import type { Host } from './host.ts';

/** Filled by the balancer before each pick; one object, reused (no allocation per pick). */
export interface PickInput {
  /** deps.now(), read only when the cluster has a warmup window (else 0). */
  nowMs: number;
  /** The request's hash under a hash policy: 53 bits for RING_HASH, 32 for MAGLEV. */
  hash: number;
}

export interface Picker {
  pick(input: PickInput): Host;
}
