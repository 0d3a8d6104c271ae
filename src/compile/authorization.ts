// Which AuthorizationPolicies are in force on a workload, by Istio's scoping: a policy without
// selector or target applies to every workload of its namespace (of the mesh, in the root
// namespace); a selector picks workloads by label (in every namespace, from the root namespace);
// a targetRef of kind Service picks the workloads that Service selects. The rules pass as they are:
// the proxy compiles them. CUSTOM policies and Gateway targets are not enforced (a warning says so
// when they are written).

import type { AuthorizationPolicySpec, Resource, ServiceSpec } from '../config/index.ts';
import type { AuthzPolicy, AuthzRule } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf, selects } from './config-index.ts';

export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

export function authorizationFor(
  config: IndexedConfig,
  client: { namespace: string; labels: Readonly<Record<string, string>> },
): AuthzPolicy[] {
  const root = config.mesh.rootNamespace;
  const out: AuthzPolicy[] = [];
  for (const p of config.authorizationPolicies) {
    const action = p.spec?.action ?? 'ALLOW';
    if (action === 'CUSTOM' || !appliesTo(p, client, root, config.services)) continue;
    out.push({
      name: `${namespaceOf(p)}/${p.metadata.name}`,
      action,
      dryRun: p.metadata.annotations?.[DRY_RUN_ANNOTATION] === 'true',
      rules: (p.spec?.rules ?? []).map(
        (r): AuthzRule => ({
          from: (r.from ?? []).map((f) => f.source),
          to: (r.to ?? []).map((t) => t.operation),
          when: r.when ?? [],
        }),
      ),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function appliesTo(
  p: Resource<AuthorizationPolicySpec>,
  client: { namespace: string; labels: Readonly<Record<string, string>> },
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
