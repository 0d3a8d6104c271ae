// What Balancer.pick answers: an endpoint, "dial the original destination" (PASSTHROUGH), or no
// endpoint and why. The balancer makes every answer object once per snapshot, so a pick allocates none.

import type { Endpoint } from '../../wire/index.ts';

/** Why a pick found no endpoint; the caller answers 503 with flag UH for both. */
export const NoEndpointReason = {
  /** The cluster has no endpoints (or `distribute` sends this proxy to none of them). */
  NoEndpoints: 'no-endpoints',
  /** Every endpoint is ejected by outlier detection and the panic threshold (minHealthPercent) is 0. */
  AllEjected: 'all-ejected',
} as const;
export type NoEndpointReason = (typeof NoEndpointReason)[keyof typeof NoEndpointReason];

export interface PickedEndpoint {
  kind: 'endpoint';
  endpoint: Endpoint;
  /** The locality priority it came from (0 = most preferred). */
  priority: number;
  /** Picked in panic mode: the priority had too few healthy endpoints, so ejected ones were candidates too. */
  isPanic: boolean;
}

export type PickResult =
  | PickedEndpoint
  /** PASSTHROUGH clusters: the caller dials the connection's original destination itself. */
  | { kind: 'passthrough' }
  | { kind: 'none'; reason: NoEndpointReason; message: string };

export const PASSTHROUGH: PickResult = Object.freeze({ kind: 'passthrough' });

export function noEndpoint(reason: NoEndpointReason, cluster: string): PickResult {
  const why =
    reason === NoEndpointReason.NoEndpoints
      ? 'no endpoints'
      : 'every endpoint is ejected by outlier detection';
  return Object.freeze({ kind: 'none', reason, message: `cluster ${cluster}: ${why}` });
}
