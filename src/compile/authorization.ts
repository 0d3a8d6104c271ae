// Which AuthorizationPolicies are in force on a workload, by Istio's scoping (policy-scope.ts). The
// rules pass as they are: the proxy compiles them. CUSTOM policies and Gateway targets are not
// enforced (a warning says so when they are written).

import type { AuthzPolicy, AuthzRule } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf } from './config-index.ts';
import { byPolicyName, type PolicyClient, policyAppliesTo } from './policy-scope.ts';

export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

export function authorizationFor(config: IndexedConfig, client: PolicyClient): AuthzPolicy[] {
  const root = config.mesh.rootNamespace;
  const out: AuthzPolicy[] = [];
  for (const p of config.authorizationPolicies) {
    const action = p.spec?.action ?? 'ALLOW';
    if (action === 'CUSTOM' || !policyAppliesTo(p, client, root, config.services)) continue;
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
  return out.sort(byPolicyName);
}
