// Which workloads a security policy (AuthorizationPolicy, RequestAuthentication) applies to, by
// Istio's scoping: one without selector or target applies to every workload of its namespace (of the
// mesh, in the root namespace); a selector picks workloads by label (in every namespace, from the root
// namespace); a targetRef of kind Service picks the workloads that Service selects. Other target kinds
// (a Gateway) pick nothing here: a warning says so when they are written.

import type { Resource, ServiceSpec } from '../config/index.ts';
import { namespaceOf, selects } from './config-index.ts';

interface PolicyTarget {
  kind: string;
  group?: string | undefined;
  name: string;
}

/** What every security policy kind has in common for scoping. */
export interface ScopedPolicySpec {
  selector?: { matchLabels?: Record<string, string> | undefined } | undefined;
  targetRef?: PolicyTarget | undefined;
  targetRefs?: PolicyTarget[] | undefined;
}

export interface PolicyClient {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

export function policyAppliesTo(
  p: Resource<ScopedPolicySpec>,
  client: PolicyClient,
  root: string,
  services: readonly Resource<ServiceSpec>[],
): boolean {
  const ns = namespaceOf(p);
  if (ns !== client.namespace && ns !== root) return false;
  const targets = [
    ...(p.spec?.targetRefs ?? []),
    ...(p.spec?.targetRef === undefined ? [] : [p.spec.targetRef]),
  ];
  if (targets.length > 0) {
    return targets.some(
      (t) =>
        t.kind === 'Service' &&
        (t.group ?? '') === '' &&
        ns === client.namespace &&
        services.some(
          (s) =>
            namespaceOf(s) === ns && s.metadata.name === t.name && selects(s.spec?.selector, client.labels),
        ),
    );
  }
  const matchLabels = p.spec?.selector?.matchLabels ?? {};
  if (Object.keys(matchLabels).length === 0) return true;
  return selects(matchLabels, client.labels);
}

/** `namespace/name`, the name policies go by on the wire, and the order they are sent in. */
export function byPolicyName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
