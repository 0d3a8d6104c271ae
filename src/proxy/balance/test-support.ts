// Builders and a seeded random source for the balance tests and pick.bench.ts (not part of index.ts).

import type { Cluster, Endpoint, LoadBalancer, OutlierDetection } from '../../wire/index.ts';
import { endpointKey, type Host } from './host.ts';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock the test moves by hand. */
export function manualClock(startMs = 1_000_000): { now(): number; advance(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export function endpoint(address: string, options: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    port: 9080,
    spiffeId: '',
    labels: {},
    workload: address,
    locality: '',
    weight: 1,
    ...options,
  };
}

/** `count` endpoints 10.0.0.1…, locality and weight as given. */
export function endpoints(count: number, options: Partial<Endpoint> = {}): Endpoint[] {
  return Array.from({ length: count }, (_, i) => endpoint(`10.0.${i >> 8}.${(i & 255) + 1}`, options));
}

export function cluster(lb: LoadBalancer, eps: Endpoint[], outlierDetection?: OutlierDetection): Cluster {
  return {
    name: 'outbound|9080||reviews.default.svc.cluster.local',
    service: 'reviews.default.svc.cluster.local',
    port: 9080,
    protocol: 'HTTP',
    traffic: 'http',
    lb,
    connectTimeoutMs: 1000,
    tlsMode: 'DISABLE',
    connectionPool: {
      maxConnections: 1024,
      maxPendingRequests: 1024,
      maxRequests: 1024,
      maxRequestsPerConnection: 0,
      maxRetries: 3,
    },
    ...(outlierDetection === undefined ? {} : { outlierDetection }),
    endpoints: eps,
  };
}

export function outlierConfig(overrides: Partial<OutlierDetection> = {}): OutlierDetection {
  return {
    consecutive5xxErrors: 5,
    consecutiveGatewayErrors: 0,
    consecutiveLocalOriginFailures: 5,
    splitExternalLocalOriginErrors: false,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 100,
    minHealthPercent: 0,
    ...overrides,
  };
}

/** Counts of picked endpoint addresses over `n` picks. */
export function tally(n: number, pickOnce: () => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = pickOnce() ?? '(none)';
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}

/** Hosts as the balancer makes them (priority 0, nothing in flight), for testing pickers alone. */
export function hostsOf(eps: Endpoint[], addedAtMs = 0): Host[] {
  return eps.map((endpoint) => ({
    endpoint,
    key: endpointKey(endpoint),
    weight: Math.max(1, endpoint.weight),
    state: { active: 0, addedAtMs },
    picked: { kind: 'endpoint', endpoint, priority: 0, isPanic: false },
    pickedInPanic: { kind: 'endpoint', endpoint, priority: 0, isPanic: true },
  }));
}
