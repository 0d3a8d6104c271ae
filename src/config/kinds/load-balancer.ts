// A DestinationRule's loadBalancer: simple algorithms, consistent hashing, locality and zone-aware
// settings, slow-start warmup. Ports Istio's validateLoadBalancer and ValidateLocalityLbSetting /
// ValidateZoneAwareLbSetting; traffic-policy.ts adds the rules that look at outlierDetection too.

import {
  arr,
  bool,
  type Checker,
  duration,
  type Infer,
  int,
  notImplemented,
  num,
  obj,
  record,
  str,
} from '../schema.ts';
import { istioDuration } from './istio-duration.ts';

const UINT32_MAX = 4294967295;
const uint32 = int({ min: 0, max: UINT32_MAX });
// Envoy's limit for a Maglev table (exclusive); the size must be prime.
const MAGLEV_TABLE_SIZE_LIMIT = 5000011;

/** The node labels that spell a locality; failoverPriority may not repeat them next to `failover`. */
const TOPOLOGY_LABELS = new Set([
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.istio.io/subzone',
]);

const httpCookie = obj(
  {
    name: str({ minLength: 1 }),
    path: str(),
    ttl: duration(),
    attributes: arr(obj({ name: str({ minLength: 1 }), value: str() }, { required: ['name'] }), {
      refine: (attributes, c) => {
        const seen = new Set<string>();
        attributes.forEach((a, i) => {
          if (seen.has(a.name)) c.error(`duplicate cookie attribute ${JSON.stringify(a.name)}`, i, 'name');
          seen.add(a.name);
        });
      },
    }),
  },
  { required: ['name'], name: 'an HTTP cookie' },
);

const maglev = obj(
  { tableSize: int({ min: 0 }) },
  {
    refine: (v, c) => {
      const size = v.tableSize ?? 0;
      if (size === 0) c.error('is required for maglev: a prime number such as 65537', 'tableSize');
      else if (size >= MAGLEV_TABLE_SIZE_LIMIT)
        c.error(`must be less than ${MAGLEV_TABLE_SIZE_LIMIT}, got ${size}`, 'tableSize');
      else if (!isPrime(size)) c.error(`must be a prime number, got ${size}`, 'tableSize');
    },
  },
);

export const consistentHash = obj(
  {
    httpHeaderName: str(),
    httpCookie,
    useSourceIp: bool(),
    httpQueryParameterName: str(),
    ringHash: obj({ minimumRingSize: int({ min: 0 }) }),
    maglev,
    minimumRingSize: int({ min: 0 }),
  },
  {
    name: 'a consistent hash setting',
    oneOf: [
      ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
      ['ringHash', 'maglev'],
    ],
    refine: (v, c) => {
      if (v.minimumRingSize === undefined || v.minimumRingSize === 0) return;
      if (v.ringHash !== undefined || v.maglev !== undefined) {
        c.error('must not be set with ringHash or maglev: use ringHash.minimumRingSize', 'minimumRingSize');
      } else {
        c.warn('is deprecated: use ringHash.minimumRingSize', 'minimumRingSize');
      }
    },
  },
);

const failover = arr(obj({ from: str(), to: str() }));

export const localityLbSetting = obj(
  {
    distribute: arr(obj({ from: str(), to: record(uint32) })),
    failover,
    failoverPriority: arr(str()),
    enabled: bool(),
  },
  {
    name: 'a locality load balancer setting',
    refine: (v, c) => {
      const distribute = v.distribute ?? [];
      if (distribute.length > 0 && (v.failover ?? []).length > 0) {
        c.error('only one of distribute and failover may be set');
        return;
      }
      if ((v.failover ?? []).length > 0) checkPriorityLabels(v.failoverPriority ?? [], c, 'locality');
      distribute.forEach((d, i) => {
        checkDistribution(d.to ?? {}, c, ['distribute', i, 'to']);
      });
      const fromProblem = localitiesProblem(distribute.map((d) => d.from ?? ''));
      if (fromProblem !== undefined) c.error(fromProblem.message, 'distribute', fromProblem.index, 'from');
      checkFailover(v.failover ?? [], c);
    },
  },
);

export const zoneAwareLbSetting = obj(
  {
    enabled: bool(),
    failover,
    failoverPriority: arr(str()),
    minClusterSize: int({ min: 1, max: UINT32_MAX }),
  },
  {
    name: 'a zone-aware load balancer setting',
    refine: (v, c) => {
      checkPriorityLabels(v.failoverPriority ?? [], c, 'zone-aware');
      checkFailover(v.failover ?? [], c);
    },
  },
);

const warmup = obj(
  {
    duration: istioDuration(),
    minimumPercent: num({ min: 0, max: 100 }),
    aggression: num({ exclusiveMin: 0 }),
  },
  { required: ['duration'], name: 'a warmup setting' },
);

const backendUtilization = obj({
  errorUtilizationPenaltyPercent: uint32,
  metricNamesForComputingUtilization: arr(str()),
  weightExpirationPeriod: duration(),
  weightStabilizationPeriod: duration(),
  weightUpdatePeriod: duration(),
});

/** Istio's LoadBalancerSettings. */
export const loadBalancer = obj(
  {
    simple: str({
      enum: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'],
    }),
    consistentHash,
    backendUtilization: notImplemented(
      backendUtilization,
      'backendUtilization (weights from backend-reported ORCA load)',
    ),
    localityLbSetting,
    zoneAwareLbSetting,
    warmup,
    warmupDurationSecs: istioDuration(),
  },
  {
    name: 'a load balancer setting',
    oneOf: [
      ['simple', 'consistentHash', 'backendUtilization'],
      ['localityLbSetting', 'zoneAwareLbSetting'],
    ],
  },
);

export type LoadBalancerSettings = Infer<typeof loadBalancer>;
export type ConsistentHashLB = Infer<typeof consistentHash>;
export type LocalityLoadBalancerSetting = Infer<typeof localityLbSetting>;
export type ZoneAwareLoadBalancerSetting = Infer<typeof zoneAwareLbSetting>;

function checkPriorityLabels(priority: readonly string[], c: Checker, what: string): void {
  priority.forEach((label, i) => {
    if (!TOPOLOGY_LABELS.has(label)) return;
    c.error(
      what === 'locality'
        ? `must not be the topology label ${JSON.stringify(label)} when failover is set: failover already orders regions`
        : `must not be the topology label ${JSON.stringify(label)}: zone-aware load balancing orders regions and zones itself`,
      'failoverPriority',
      i,
    );
  });
}

/** Weights from one locality to others: each 1-100, adding up to 100. */
function checkDistribution(to: Record<string, number>, c: Checker, at: (string | number)[]): void {
  let total = 0;
  let ok = true;
  for (const [locality, weight] of Object.entries(to)) {
    if (weight < 1 || weight > 100) {
      c.error(`locality weight must be between 1 and 100, got ${weight}`, ...at, locality);
      ok = false;
    }
    total += weight;
  }
  if (!ok) return;
  if (total !== 100) c.error(`weights must add up to 100, got ${total}`, ...at);
  const problem = localitiesProblem(Object.keys(to));
  if (problem !== undefined) c.error(problem.message, ...at, Object.keys(to)[problem.index] as string);
}

function checkFailover(entries: readonly { from?: string; to?: string }[], c: Checker): void {
  entries.forEach((f, i) => {
    const from = f.from ?? '';
    const to = f.to ?? '';
    if (from === to)
      c.error(`from and to must be different regions, got ${JSON.stringify(from)} for both`, 'failover', i);
    if (from.includes('/') || to.includes('/'))
      c.error('from and to must each name a region, without "/" and zone', 'failover', i);
    if (from.includes('*') || to.includes('*'))
      c.error('from and to must name a region without the wildcard "*"', 'failover', i);
  });
}

/**
 * Istio's validateLocalities: `region[/zone[/subzone]]` with no empty part, at most one `*` and only at
 * the end, and no locality that overlaps one listed before it. Returns the first problem.
 */
export function localitiesProblem(
  localities: readonly string[],
): { index: number; message: string } | undefined {
  // region -> zone -> subzone; '*' stands for "all of them".
  const seen = new Map<string, Map<string, Set<string>>>();
  for (let index = 0; index < localities.length; index++) {
    const locality = localities[index] as string;
    const overlap = { index, message: `locality ${JSON.stringify(locality)} overlaps one listed before it` };
    const stars = locality.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) {
      return { index, message: `locality ${JSON.stringify(locality)} may have one "*", only at its end` };
    }
    if (seen.has('*')) return overlap;
    const parts = splitLocality(locality);
    if (parts.some((p) => p === '')) {
      return {
        index,
        message: `locality ${JSON.stringify(locality)} must not have an empty region, zone or subzone`,
      };
    }
    const [region, zone, subzone] = parts as [string, string?, string?];
    const zones = seen.get(region);
    if (zone === undefined) {
      if (zones !== undefined) return overlap;
      seen.set(region, new Map([['*', new Set(['*'])]]));
      continue;
    }
    if (zones === undefined) {
      seen.set(region, new Map([[zone, new Set([subzone ?? '*'])]]));
      continue;
    }
    if (zones.has('*')) return overlap;
    const subzones = zones.get(zone);
    if (subzone === undefined) {
      if (subzones !== undefined) return overlap;
      zones.set(zone, new Set(['*']));
      continue;
    }
    if (subzones === undefined) {
      zones.set(zone, new Set([subzone]));
      continue;
    }
    if (subzones.has('*') || subzones.has(subzone)) return overlap;
    subzones.add(subzone);
  }
  return undefined;
}

/** Go's strings.SplitN(locality, "/", 3). */
function splitLocality(locality: string): string[] {
  const first = locality.indexOf('/');
  if (first === -1) return [locality];
  const second = locality.indexOf('/', first + 1);
  if (second === -1) return [locality.slice(0, first), locality.slice(first + 1)];
  return [locality.slice(0, first), locality.slice(first + 1, second), locality.slice(second + 1)];
}

/** Envoy's isPrime, which Istio copies so that both agree on Maglev table sizes. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let factor = 3; factor <= limit; factor += 2) if (x % factor === 0) return false;
  return true;
}
