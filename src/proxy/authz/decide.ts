// Istio's order of evaluation: a matching DENY policy denies; else, with no ALLOW policy in force,
// the request is allowed; else it is allowed only when an ALLOW policy matches. Dry-run policies are
// evaluated the same way beside the enforced ones and only reported. A matching AUDIT policy is
// reported and decides nothing.

import type { AuthzAttributes } from './attributes.ts';
import { type CompiledAuthz, type CompiledPolicy, ruleMatches } from './compile-authz.ts';

/** Which policy and rule: `rule` is -1 for "no ALLOW policy matched". */
export interface Verdict {
  policy: string;
  rule: number;
}

export interface AuthzDecision {
  allowed: boolean;
  /** What denied (a DENY rule, or the ALLOW policies none of which matched); undefined when allowed. */
  deniedBy: Verdict | undefined;
  /** What dry-run policies would have denied, had they been enforced. */
  wouldDeny: Verdict | undefined;
  /** The AUDIT rules that matched. */
  audited: Verdict[];
}

export const ALLOWED: AuthzDecision = {
  allowed: true,
  deniedBy: undefined,
  wouldDeny: undefined,
  audited: [],
};

/** `http`: whether the attributes are an HTTP request's (else a TCP connection's). */
export function decide(authz: CompiledAuthz, a: AuthzAttributes): AuthzDecision {
  if (authz.isEmpty) return ALLOWED;
  const isHttp = a.http !== undefined;
  const deniedBy = firstMatch(authz.deny, a, isHttp, false) ?? allowVerdict(authz.allow, a, isHttp, false);
  const wouldDeny = firstMatch(authz.deny, a, isHttp, true) ?? allowVerdict(authz.allow, a, isHttp, true);
  const audited: Verdict[] = [];
  for (const p of authz.audit) {
    const m = matchIn(p, a, isHttp);
    if (m !== undefined) audited.push(m);
  }
  return { allowed: deniedBy === undefined, deniedBy, wouldDeny, audited };
}

function matchIn(p: CompiledPolicy, a: AuthzAttributes, isHttp: boolean): Verdict | undefined {
  for (const r of p.rules) {
    const tests = isHttp ? r.http : r.tcp;
    if (tests !== undefined && ruleMatches(tests, a)) return { policy: p.name, rule: r.index };
  }
  return undefined;
}

function firstMatch(
  policies: readonly CompiledPolicy[],
  a: AuthzAttributes,
  isHttp: boolean,
  dryRun: boolean,
): Verdict | undefined {
  for (const p of policies) {
    if (p.dryRun !== dryRun) continue;
    const m = matchIn(p, a, isHttp);
    if (m !== undefined) return m;
  }
  return undefined;
}

/** With ALLOW policies (of this dry-run kind) in force and none matching: the denial; else undefined. */
function allowVerdict(
  policies: readonly CompiledPolicy[],
  a: AuthzAttributes,
  isHttp: boolean,
  dryRun: boolean,
): Verdict | undefined {
  const inForce = policies.filter((p) => p.dryRun === dryRun);
  if (inForce.length === 0) return undefined;
  for (const p of inForce) if (matchIn(p, a, isHttp) !== undefined) return undefined;
  return { policy: inForce.map((p) => p.name).join(','), rule: -1 };
}
