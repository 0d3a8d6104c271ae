// Why the policies in force allow or deny one request (or connection), for operators: the decision,
// the policy and rule that made it, and for every rule of every policy whether it matched and which
// of its constraints did not hold. When no ALLOW rule matched, the closest one (fewest constraints
// failing) is named. Callers only ever see `RBAC: access denied`; this is what `alder explain` shows.

import type { AuthzAttributes } from './attributes.ts';
import { type CompiledAuthz, type Constraint, type RuleTests, ruleMatches } from './compile-authz.ts';
import { decide, type Verdict } from './decide.ts';

export interface RuleExplanation {
  index: number;
  matched: boolean;
  /** The constraints that did not hold (of the closest `from` and `to` entries); empty when it matched. */
  failed: string[];
  /** An ALLOW rule using HTTP-only fields cannot apply to a TCP connection. */
  skippedForTcp?: true;
}

export interface PolicyExplanation {
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  dryRun: boolean;
  rules: RuleExplanation[];
}

export interface AuthzExplanation {
  attributes: AuthzAttributes;
  allowed: boolean;
  deniedBy: Verdict | undefined;
  wouldDeny: Verdict | undefined;
  /** With ALLOW policies in force and none matching: the rule that came closest. */
  closest: (Verdict & { failed: string[] }) | undefined;
  policies: PolicyExplanation[];
}

export function explainAuthz(authz: CompiledAuthz, a: AuthzAttributes): AuthzExplanation {
  const d = decide(authz, a);
  const isHttp = a.http !== undefined;
  const policies = [...authz.deny, ...authz.allow, ...authz.audit].map(
    (p): PolicyExplanation => ({
      name: p.name,
      action: p.action,
      dryRun: p.dryRun,
      rules: p.rules.map((r) => {
        const tests = isHttp ? r.http : r.tcp;
        if (tests === undefined) return { index: r.index, matched: false, failed: [], skippedForTcp: true };
        const matched = ruleMatches(tests, a);
        return { index: r.index, matched, failed: matched ? [] : failedConstraints(tests, a) };
      }),
    }),
  );
  let closest: AuthzExplanation['closest'];
  if (d.deniedBy?.rule === -1) {
    for (const p of policies) {
      if (p.action !== 'ALLOW' || p.dryRun) continue;
      for (const r of p.rules) {
        if (r.skippedForTcp === true) continue;
        if (closest === undefined || r.failed.length < closest.failed.length)
          closest = { policy: p.name, rule: r.index, failed: r.failed };
      }
    }
  }
  return {
    attributes: a,
    allowed: d.allowed,
    deniedBy: d.deniedBy,
    wouldDeny: d.wouldDeny,
    closest,
    policies,
  };
}

function failedConstraints(r: RuleTests, a: AuthzAttributes): string[] {
  const failing = (cs: readonly Constraint[]) => cs.filter((c) => !c.check(a)).map((c) => c.path);
  const closestOf = (groups: readonly Constraint[][]) => {
    if (groups.length === 0) return [];
    let best: string[] | undefined;
    for (const g of groups) {
      const f = failing(g);
      if (best === undefined || f.length < best.length) best = f;
    }
    return best ?? [];
  };
  return [...closestOf(r.from), ...closestOf(r.to), ...failing(r.when)];
}

/** The explanation as a person reads it. */
export function formatAuthzExplanation(e: AuthzExplanation): string {
  const a = e.attributes;
  const lines: string[] = [];
  const refusal = a.http === undefined ? 'the connection is closed' : '403 RBAC: access denied';
  const what =
    a.http === undefined
      ? `TCP connection to port ${a.destinationPort}`
      : `${a.http.method} ${a.http.host}${a.http.path}`;
  const jwt =
    a.jwtClaims === undefined
      ? ''
      : `, with a JWT of ${a.jwtClaims.iss ?? '(no iss)'}/${a.jwtClaims.sub ?? '(no sub)'}`;
  lines.push(`${what} from ${a.principal ?? `a plaintext peer at ${a.sourceIp}`}${jwt}`);
  if (e.policies.length === 0) lines.push('ALLOWED: no AuthorizationPolicy applies to this workload');
  else if (e.allowed) lines.push('ALLOWED');
  else if (e.deniedBy !== undefined && e.deniedBy.rule >= 0)
    lines.push(`DENIED by DENY policy ${e.deniedBy.policy}, rule ${e.deniedBy.rule} (${refusal})`);
  else lines.push(`DENIED: no rule of the ALLOW policies (${e.deniedBy?.policy}) matches (${refusal})`);
  if (e.closest !== undefined)
    lines.push(
      `  closest: ${e.closest.policy} rule ${e.closest.rule}, which needs ${e.closest.failed.join(', ')}`,
    );
  if (e.wouldDeny !== undefined)
    lines.push(
      `dry run: ${e.wouldDeny.policy} would deny it${e.wouldDeny.rule >= 0 ? ` (rule ${e.wouldDeny.rule})` : ''}`,
    );
  for (const p of e.policies) {
    lines.push('', `${p.action}${p.dryRun ? ' (dry run)' : ''} ${p.name}`);
    if (p.rules.length === 0) lines.push('  no rules: matches nothing');
    for (const r of p.rules) {
      const status = r.matched
        ? 'matches'
        : r.skippedForTcp === true
          ? 'skipped: an ALLOW rule with HTTP-only fields cannot apply to TCP'
          : `no match: ${r.failed.join(', ')} not satisfied`;
      lines.push(`  rule ${r.index}: ${status}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
