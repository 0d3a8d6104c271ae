// Locality-aware load balancing as Istio compiles it for Envoy: priorities from this proxy's
// locality (and failover / failoverPriority), or `distribute` weights per locality. Pure: the
// balancer calls planLocality once per snapshot; Envoy's per-priority load is priority-load.ts.

import type { Endpoint, LocalityPolicy, ProxyIdentity } from '../../wire/index.ts';

export interface Locality {
  region: string;
  zone: string;
  subzone: string;
}

/** `region/zone/subzone`; missing parts are empty. */
export function parseLocality(text: string): Locality {
  const [region = '', zone = '', subzone = ''] = text.split('/');
  return { region, zone, subzone };
}

/** Istio's LocalityMatch: each part of the rule (`region/zone/subzone`) is `*`, absent, or equal. */
export function localityMatches(locality: Locality, rule: string): boolean {
  const [region = '', zone = '', subzone = ''] = rule.split('/');
  const isAny = (part: string) => part === '*' || part === '';
  if (region !== '*' && region !== locality.region) return false;
  if (!isAny(zone) && zone !== locality.zone) return false;
  return isAny(subzone) || subzone === locality.subzone;
}

/**
 * Istio's locality priority: 0 same region/zone/subzone, 1 same region/zone, 2 same region, 3 other
 * regions; with a `failover` entry from this proxy's region, 3 is its `to` region and 4 the rest.
 */
export function proximityPriority(
  self: Locality,
  endpoint: Locality,
  failover: LocalityPolicy['failover'],
): number {
  if (self.region === endpoint.region) {
    if (self.zone !== endpoint.zone) return 2;
    return self.subzone === endpoint.subzone ? 0 : 1;
  }
  const rule = failover?.find((f) => f.from === self.region);
  return rule !== undefined && rule.to !== endpoint.region ? 4 : 3;
}

/** Labels Istio fills from the locality when a workload does not carry them. */
const TOPOLOGY_LABELS: Record<string, keyof Locality> = {
  'topology.kubernetes.io/region': 'region',
  'topology.kubernetes.io/zone': 'zone',
  'topology.istio.io/subzone': 'subzone',
};

function labelOf(labels: Record<string, string>, locality: Locality, name: string): string | undefined {
  const part = TOPOLOGY_LABELS[name];
  return labels[name] ?? (part === undefined ? undefined : locality[part] || undefined);
}

/**
 * Istio's failoverPriority: with N entries (`label` or `label=value`, value overriding this
 * proxy's), an endpoint matching all N is priority 0, the first N−1 only 1, …, none N.
 */
export function labelPriority(
  self: { labels: Record<string, string>; locality: Locality },
  endpoint: { labels: Record<string, string>; locality: Locality },
  failoverPriority: readonly string[],
): number {
  for (let j = 0; j < failoverPriority.length; j++) {
    const entry = failoverPriority[j]!;
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    // A label absent on both sides matches, as in Istio (Go reads both as "").
    const want = eq < 0 ? (labelOf(self.labels, self.locality, name) ?? '') : entry.slice(eq + 1);
    if (want !== (labelOf(endpoint.labels, endpoint.locality, name) ?? '')) {
      return failoverPriority.length - j;
    }
  }
  return 0;
}

export interface LocalityPlan {
  /** Per endpoint (cluster order): its priority, contiguous from 0; −1 when `distribute` leaves it out. */
  priorities: number[];
  /** With `distribute`: the weight of each endpoint locality string that gets traffic. */
  localityWeights: Map<string, number> | undefined;
}

/** Priorities (or distribute weights) for a cluster's endpoints as seen from this proxy. */
export function planLocality(
  endpoints: readonly Endpoint[],
  self: Pick<ProxyIdentity, 'labels' | 'locality'>,
  policy: LocalityPolicy | undefined,
): LocalityPlan {
  const zero = { priorities: endpoints.map(() => 0), localityWeights: undefined };
  if (policy === undefined) return zero;
  const selfLocality = parseLocality(self.locality);
  if (policy.distribute !== undefined && policy.distribute.length > 0) {
    return distribute(endpoints, selfLocality, policy.distribute) ?? zero;
  }
  const places = endpoints.map((e) => parseLocality(e.locality));
  const byLabels = policy.failoverPriority ?? [];
  const useLabels = byLabels.length > 0 && Object.keys(self.labels).length > 0;
  // As Istio: failoverPriority alone ranks by labels only; with failover too, label rank × 5 + proximity.
  const useProximity = byLabels.length === 0 || (policy.failover?.length ?? 0) > 0;
  const raw = endpoints.map((e, i) => {
    const place = places[i]!;
    const rank = useLabels
      ? labelPriority(
          { labels: self.labels, locality: selfLocality },
          { labels: e.labels, locality: place },
          byLabels,
        )
      : 0;
    return useProximity ? rank * 5 + proximityPriority(selfLocality, place, policy.failover) : rank;
  });
  const levels = [...new Set(raw)].sort((a, b) => a - b);
  return { priorities: raw.map((p) => levels.indexOf(p)), localityWeights: undefined };
}

/**
 * Istio's applyLocalityWeights: the first rule whose `from` matches this proxy; each `to` pattern
 * splits its weight over the localities it claims in proportion to their endpoints' weights
 * (rounded up); localities no pattern claims get nothing. Undefined when no rule applies.
 */
function distribute(
  endpoints: readonly Endpoint[],
  self: Locality,
  rules: NonNullable<LocalityPolicy['distribute']>,
): LocalityPlan | undefined {
  const rule = rules.find((r) => localityMatches(self, r.from));
  if (rule === undefined) return undefined;
  const weightOf = new Map<string, number>();
  for (const e of endpoints)
    weightOf.set(e.locality, (weightOf.get(e.locality) ?? 0) + Math.max(1, e.weight));
  const unclaimed = new Set(weightOf.keys());
  const localityWeights = new Map<string, number>();
  for (const [pattern, weight] of Object.entries(rule.to)) {
    const claimed = [...unclaimed].filter((l) => localityMatches(parseLocality(l), pattern));
    const total = claimed.reduce((sum, l) => sum + weightOf.get(l)!, 0);
    for (const l of claimed) {
      unclaimed.delete(l);
      const share = Math.ceil((weightOf.get(l)! * weight) / total);
      if (share > 0) localityWeights.set(l, share);
    }
  }
  const priorities = endpoints.map((e) => (localityWeights.has(e.locality) ? 0 : -1));
  return { priorities, localityWeights };
}
