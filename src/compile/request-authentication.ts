// Which RequestAuthentication rules are in force on a workload, by the same scoping as
// AuthorizationPolicy (policy-scope.ts): the rules of every policy that applies, in policy-name
// order, in Istio's shape with defaults made explicit. Inline `jwks` pass as written; a `jwksUri` is
// fetched by the proxy, which is where the issuer is reached from.

import type { JwtRule as JwtRuleSpec } from '../config/index.ts';
import type { JwtRule } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf } from './config-index.ts';
import { msOf } from './durations.ts';
import { type PolicyClient, policyAppliesTo } from './policy-scope.ts';

/** Istio's default for a rule's `timeout`: how long one fetch of the keys may take. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;

export function requestAuthenticationFor(config: IndexedConfig, client: PolicyClient): JwtRule[] {
  const root = config.mesh.rootNamespace;
  const applying = config.requestAuthentications
    .filter((p) => policyAppliesTo(p, client, root, config.services))
    .map((p) => ({ name: `${namespaceOf(p)}/${p.metadata.name}`, rules: p.spec?.jwtRules ?? [] }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return applying.flatMap((p) => p.rules.map((r) => wireRule(p.name, r)));
}

function wireRule(policy: string, r: JwtRuleSpec): JwtRule {
  const out: JwtRule = {
    policy,
    audiences: r.audiences ?? [],
    fromHeaders: (r.fromHeaders ?? []).map((h) => ({ name: h.name, prefix: h.prefix ?? '' })),
    fromParams: r.fromParams ?? [],
    fromCookies: r.fromCookies ?? [],
    outputClaimToHeaders: r.outputClaimToHeaders ?? [],
    forwardOriginalToken: r.forwardOriginalToken ?? false,
    spaceDelimitedClaims: r.spaceDelimitedClaims ?? [],
    timeoutMs: msOf(r.timeout) ?? JWKS_FETCH_TIMEOUT_MS,
  };
  if (r.issuer !== undefined) out.issuer = r.issuer;
  // Istio: with both (refused at admission, kept for older stores) the inline set wins.
  if (r.jwks !== undefined) out.jwks = r.jwks;
  else {
    const uri = r.jwksUri ?? r.jwks_uri;
    if (uri !== undefined) out.jwksUri = uri;
  }
  if (r.outputPayloadToHeader !== undefined && r.outputPayloadToHeader !== '')
    out.outputPayloadToHeader = r.outputPayloadToHeader;
  return out;
}
