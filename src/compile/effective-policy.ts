// The traffic policy one cluster runs with, merged as Istio's MergeSubsetTrafficPolicy does:
// top-level trafficPolicy, replaced wholesale by its portLevelSettings for the port; then the
// subset's trafficPolicy overriding each field group it sets (loadBalancer, connectionPool,
// outlierDetection, tls), or replacing all four when the subset has portLevelSettings for the port.

import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
  TrafficPolicy,
} from '../config/index.ts';
import type { PolicyOrigin } from '../wire/index.ts';
import type { AppliedDestinationRule, AppliedSubset } from './destination-rules.ts';

export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings | undefined;
  connectionPool?: ConnectionPoolSettings | undefined;
  outlierDetection?: OutlierDetection | undefined;
  tls?: ClientTLSSettings | undefined;
}

const GROUPS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;
type Group = (typeof GROUPS)[number];

interface Level {
  policy: EffectivePolicy;
  name: string;
  /** Port-level settings replace every group, set or not (they do not inherit). */
  isWholesale: boolean;
}

/** The policy, and where it came from (undefined when no DestinationRule applies). */
export function effectivePolicy(
  rule: AppliedDestinationRule | undefined,
  port: number,
  subset: AppliedSubset | undefined,
): { policy: EffectivePolicy; origin: PolicyOrigin | undefined } {
  if (rule === undefined) return { policy: {}, origin: undefined };
  const levels = [
    levelFor(rule.trafficPolicy, port, 'trafficPolicy', ''),
    subset === undefined
      ? undefined
      : levelFor(subset.trafficPolicy, port, `subsets[${subset.name}]`, `subsets[${subset.name}].`),
  ];
  const policy: EffectivePolicy = {};
  const from = new Map<Group, string>();
  for (const level of levels) {
    if (level === undefined) continue;
    for (const g of GROUPS) {
      if (level.policy[g] === undefined && !level.isWholesale) continue;
      policy[g] = level.policy[g] as never;
      if (level.policy[g] === undefined) from.delete(g);
      else from.set(g, level.name);
    }
  }
  const order = levels.flatMap((l) => (l === undefined ? [] : [l.name]));
  const used = new Set(from.values());
  const fromTopLevel = [...used].some((n) => !n.startsWith('subsets['));
  const isSubsetRule = subset !== undefined && (used.size > 0 ? !fromTopLevel : true);
  return {
    policy,
    origin: {
      destinationRule: isSubsetRule ? subset.from : rule.policyFrom,
      levels: order.filter((n) => used.has(n)),
    },
  };
}

/** A trafficPolicy as it applies to one port: its portLevelSettings entry for the port if any. */
function levelFor(
  policy: TrafficPolicy | undefined,
  port: number,
  name: string,
  portPrefix: string,
): Level | undefined {
  if (policy === undefined) return undefined;
  const atPort = policy.portLevelSettings?.find((p) => p.port?.number === port);
  if (atPort !== undefined) {
    return {
      policy: pick(atPort),
      name: `${portPrefix}portLevelSettings[${port}]`,
      isWholesale: true,
    };
  }
  return { policy: pick(policy), name, isWholesale: false };
}

function pick(p: EffectivePolicy): EffectivePolicy {
  return {
    loadBalancer: p.loadBalancer,
    connectionPool: p.connectionPool,
    outlierDetection: p.outlierDetection,
    tls: p.tls,
  };
}
