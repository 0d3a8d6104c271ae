// Which DestinationRule applies to a service for one client proxy, as Istio's PushContext decides:
// the client's namespace first, then the service's namespace, then the root namespace; within a
// namespace the exact host before the most specific wildcard; rules for the same host merged (the
// oldest top-level trafficPolicy wins, subsets concatenated, the first subset of a name wins).

import type { DestinationRuleSpec, Resource, Subset, TrafficPolicy } from '../config/index.ts';
import { isLabelSubset, namespaceOf, refName } from './config-index.ts';
import { isExportedTo, mostSpecificMatch, resolveShortname } from './hosts.ts';

export interface AppliedSubset extends Subset {
  /** `namespace/name` of the DestinationRule that defined it. */
  from: string;
}

/** One or more DestinationRules for the same host, merged. */
export interface AppliedDestinationRule {
  trafficPolicy: TrafficPolicy | undefined;
  /** `namespace/name` of the rule whose top-level trafficPolicy applies (else the first rule). */
  policyFrom: string;
  subsets: AppliedSubset[];
}

export interface DestinationRuleQuery {
  hostname: string;
  serviceNamespace: string;
  client: { namespace: string; labels: Readonly<Record<string, string>> };
  rootNamespace: string;
}

/** A DestinationRule with its host made fully qualified. */
export interface Candidate {
  rule: Resource<DestinationRuleSpec>;
  host: string;
  namespace: string;
}

/** `candidates` from applicableRules, computed once per client. */
export function destinationRuleFor(
  candidates: readonly Candidate[],
  q: DestinationRuleQuery,
): AppliedDestinationRule | undefined {
  const steps: ((c: Candidate) => boolean)[] = [
    (c) =>
      c.namespace === q.client.namespace && isExportedTo(c.rule.spec?.exportTo, c.namespace, c.namespace),
    (c) => c.namespace === q.serviceNamespace && isExported(c, q.client.namespace),
    (c) => c.namespace === q.rootNamespace && isExported(c, q.client.namespace),
  ];
  for (const inStep of steps) {
    const pool = candidates.filter(inStep);
    const best = mostSpecificMatch(q.hostname, pool, (c) => c.host);
    if (best !== undefined) return merge(pool.filter((c) => c.host === best.host));
  }
  return undefined;
}

/**
 * Rules (oldest first, as indexConfig sorts them) that may apply to this client, those with a workloadSelector (only in the client's own
 * namespace, selecting it) ahead of the rest, as Istio's sortConfigBySelectorAndCreationTime orders them.
 */
export function applicableRules(
  rules: readonly Resource<DestinationRuleSpec>[],
  client: DestinationRuleQuery['client'],
): Candidate[] {
  const withSelector: Candidate[] = [];
  const without: Candidate[] = [];
  for (const rule of rules) {
    const spec = rule.spec;
    if (spec === undefined) continue;
    const namespace = namespaceOf(rule);
    const candidate = { rule, host: resolveShortname(spec.host, namespace), namespace };
    const selector = spec.workloadSelector;
    if (selector === undefined) without.push(candidate);
    else if (namespace === client.namespace && isLabelSubset(selector.matchLabels, client.labels)) {
      withSelector.push(candidate);
    }
  }
  return [...withSelector, ...without];
}

/** Exported beyond its own namespace (not `.` alone) and visible to `client`. */
function isExported(c: Candidate, client: string): boolean {
  const exportTo = c.rule.spec?.exportTo ?? [];
  const isPrivateOnly = exportTo.length === 1 && (exportTo[0] === '.' || exportTo[0] === c.namespace);
  return !isPrivateOnly && isExportedTo(exportTo, c.namespace, client);
}

function merge(same: readonly Candidate[]): AppliedDestinationRule {
  const first = same[0] as Candidate;
  const withPolicy = same.find((c) => c.rule.spec?.trafficPolicy !== undefined);
  const subsets: AppliedSubset[] = [];
  for (const c of same) {
    for (const s of c.rule.spec?.subsets ?? []) {
      if (!subsets.some((x) => x.name === s.name)) subsets.push({ ...s, from: refName(c.rule) });
    }
  }
  return {
    trafficPolicy: withPolicy?.rule.spec?.trafficPolicy,
    policyFrom: refName((withPolicy ?? first).rule),
    subsets,
  };
}
