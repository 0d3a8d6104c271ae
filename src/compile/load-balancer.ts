// A DestinationRule's loadBalancer as the wire's LoadBalancer, with the defaults Istio and Envoy
// apply (cluster_traffic_policy.go applyLoadBalancer / ApplyRingHashLoadBalancer, loadbalancer.go).
// Locality LB: `distribute` always applies; failover (default or explicit) only with outlier
// detection, since nothing else ever marks endpoints unhealthy.

import type { LoadBalancerSettings } from '../config/index.ts';
import type { HashKey, LoadBalancer, LocalityPolicy } from '../wire/index.ts';
import { msOf } from './durations.ts';

/** Envoy's defaults for a ring's minimum size and a Maglev table's size. */
const DEFAULT_RING_SIZE = 1024;
const DEFAULT_MAGLEV_TABLE = 65537;
/** Envoy refuses a minimum ring size above this (RingHashLbConfig validation). */
const MAX_RING_SIZE = 8_388_608;

type SimpleKind = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';

const SIMPLE: Record<string, SimpleKind> = {
  ROUND_ROBIN: 'ROUND_ROBIN',
  // Alder's default, as before; Istio's own default for UNSPECIFIED is LEAST_REQUEST.
  UNSPECIFIED: 'ROUND_ROBIN',
  LEAST_CONN: 'LEAST_REQUEST',
  LEAST_REQUEST: 'LEAST_REQUEST',
  RANDOM: 'RANDOM',
  PASSTHROUGH: 'PASSTHROUGH',
};

export interface LoadBalancerOptions {
  hasOutlierDetection: boolean;
  /** ServiceEntry resolution NONE: connections go where the client sent them. */
  isPassthrough: boolean;
}

export function loadBalancerOf(
  lb: LoadBalancerSettings | undefined,
  options: LoadBalancerOptions,
): LoadBalancer {
  const locality = localityOf(lb, options.hasOutlierDetection);
  const withLocality = locality === undefined ? {} : { locality };
  if (options.isPassthrough) return { kind: 'PASSTHROUGH', ...withLocality };
  const hash = lb?.consistentHash;
  const hashOn = hash === undefined ? undefined : hashKeyOf(hash);
  if (hash !== undefined && hashOn !== undefined) {
    if (hash.maglev !== undefined) {
      return {
        kind: 'MAGLEV',
        hashOn,
        tableSize: hash.maglev.tableSize || DEFAULT_MAGLEV_TABLE,
        ...withLocality,
      };
    }
    const ringSize = hash.ringHash?.minimumRingSize || hash.minimumRingSize || DEFAULT_RING_SIZE;
    return { kind: 'RING_HASH', hashOn, minimumRingSize: Math.min(ringSize, MAX_RING_SIZE), ...withLocality };
  }
  const kind = SIMPLE[lb?.simple ?? 'UNSPECIFIED'] ?? 'ROUND_ROBIN';
  const warmupMs = kind === 'ROUND_ROBIN' || kind === 'LEAST_REQUEST' ? warmupOf(lb) : undefined;
  return { kind, ...(warmupMs === undefined ? {} : { warmupMs }), ...withLocality };
}

function warmupOf(lb: LoadBalancerSettings | undefined): number | undefined {
  return msOf(lb?.warmup?.duration) ?? msOf(lb?.warmupDurationSecs);
}

/** Istio's ConsistentHashToHashPolicy; a hash without a key hashes nothing (undefined). */
function hashKeyOf(hash: NonNullable<LoadBalancerSettings['consistentHash']>): HashKey | undefined {
  if (hash.httpHeaderName) return { header: hash.httpHeaderName.toLowerCase() };
  if (hash.httpQueryParameterName) return { queryParameter: hash.httpQueryParameterName };
  if (hash.useSourceIp === true) return { sourceIp: true };
  const cookie = hash.httpCookie;
  if (cookie === undefined) return undefined;
  const ttlMs = msOf(cookie.ttl);
  return {
    cookie: {
      name: cookie.name,
      ...(cookie.path === undefined ? {} : { path: cookie.path }),
      ...(ttlMs === undefined ? {} : { ttlMs }),
    },
  };
}

/** Istio's GetEffectiveLbSetting + ApplyLocalityLoadBalancer for the DestinationRule's setting. */
function localityOf(
  lb: LoadBalancerSettings | undefined,
  hasOutlierDetection: boolean,
): LocalityPolicy | undefined {
  const setting = lb?.localityLbSetting;
  if (setting?.enabled === false) return undefined;
  const distribute = (setting?.distribute ?? []).flatMap((d) =>
    d.from ? [{ from: d.from, to: { ...d.to } }] : [],
  );
  if (distribute.length > 0) return { distribute };
  if (!hasOutlierDetection) return undefined;
  const failover = (setting?.failover ?? []).flatMap((f) =>
    f.from && f.to ? [{ from: f.from, to: f.to }] : [],
  );
  const priority = (setting?.failoverPriority ?? []).filter((label) => label !== '');
  return {
    ...(failover.length === 0 ? {} : { failover }),
    ...(priority.length === 0 ? {} : { failoverPriority: [...priority] }),
  };
}
