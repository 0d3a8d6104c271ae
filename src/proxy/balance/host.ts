// One endpoint as the pickers see it: its weight, the in-flight count and slow-start clock it
// shares with the balancers of older snapshot versions, and its pick answers, made once.

import type { Endpoint } from '../../wire/index.ts';
import type { PickedEndpoint } from './pick.ts';

/** Lives as long as the endpoint stays in the cluster, across snapshot versions (keyed by address:port). */
export interface HostState {
  /** Requests in flight (onStart − onEnd), read by LEAST_REQUEST. */
  active: number;
  /** When a balancer first saw this endpoint (ms, deps.now()): the start of its slow-start window. */
  readonly addedAtMs: number;
}

export interface Host {
  readonly endpoint: Endpoint;
  /** `address:port`: the identity across snapshots and the key hashed into rings and tables. */
  readonly key: string;
  /** Endpoint.weight; values below 1 count as 1 (Envoy refuses load_balancing_weight 0). */
  readonly weight: number;
  readonly state: HostState;
  readonly picked: PickedEndpoint;
  readonly pickedInPanic: PickedEndpoint;
}

/** Envoy's minimum slow-start weight: 10% of the endpoint's weight. */
const MIN_WEIGHT_FACTOR = 0.1;

export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.address}:${endpoint.port}`;
}

/**
 * Envoy's slow start with aggression 1.0: inside the window the weight scales by
 * max(timeFactor, 10%), timeFactor = max(msSinceAdded, 1) / windowMs; after it, 1.
 */
export function slowStartFactor(addedAtMs: number, nowMs: number, windowMs: number): number {
  const age = nowMs - addedAtMs;
  if (windowMs <= 0 || age >= windowMs) return 1;
  const timeFactor = Math.max(age, 1) / windowMs;
  return Math.max(timeFactor, MIN_WEIGHT_FACTOR);
}

/** When the last of these hosts leaves slow start (−Infinity when the window is off). */
export function slowStartEndsMs(hosts: readonly Host[], windowMs: number): number {
  if (windowMs <= 0) return Number.NEGATIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const h of hosts) last = Math.max(last, h.state.addedAtMs + windowMs);
  return last;
}

export function hasUniformWeights(hosts: readonly Host[]): boolean {
  for (const h of hosts) if (h.weight !== hosts[0]?.weight) return false;
  return true;
}
