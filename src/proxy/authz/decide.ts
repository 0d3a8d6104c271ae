// Istio's order of evaluation: a matching DENY policy denies; else, with no ALLOW policy in force,
// the request is allowed; else it is allowed only when an ALLOW policy matches. Dry-run policies are
// evaluated the same way beside the enforced ones and only reported. A matching AUDIT policy is
// reported and decides nothing.

import type { AuthzAttributes } from './attributes.ts';
import { type CompiledAuthz, type DecisionPlan, planForConnection, type RuleEntry } from './compile-authz.ts';

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

export function decide(authz: CompiledAuthz, a: AuthzAttributes): AuthzDecision {
  if (authz.isEmpty) return ALLOWED;
  return decideWith(a.http === undefined ? authz.tcp : authz.http, a);
}

/** The plans of one kind of traffic, less the rules one connection rules out (see planForConnection). */
export interface TrafficPlans {
  enforced: DecisionPlan;
  dryRun: DecisionPlan;
}

/** For the requests of one connection: the HTTP plans without the rules its peer, address and port rule out. */
export function connectionPlans(authz: CompiledAuthz, a: AuthzAttributes): TrafficPlans {
  return {
    enforced: planForConnection(authz.http.enforced, a),
    dryRun: planForConnection(authz.http.dryRun, a),
  };
}

/** The decision with plans made for this traffic (and, per connection, cut down by connectionPlans). */
export function decideWith(plans: TrafficPlans, a: AuthzAttributes): AuthzDecision {
  const deniedBy = verdictOf(plans.enforced, a);
  const dry = plans.dryRun;
  const wouldDeny = dry.deny.length > 0 || dry.allowPolicies !== '' ? verdictOf(dry, a) : undefined;
  let audited: Verdict[] = NONE;
  const audit = plans.enforced.audit;
  for (let i = 0; i < audit.length; i++) {
    const e = audit[i] as RuleEntry;
    if (e.matches(a)) audited = [...audited, { policy: e.policy, rule: e.rule }];
  }
  if (deniedBy === undefined && wouldDeny === undefined && audited === NONE) return ALLOWED;
  return { allowed: deniedBy === undefined, deniedBy, wouldDeny, audited };
}

const NONE: Verdict[] = [];

/** A matching DENY rule; else, with ALLOW policies in the plan and none of their rules matching, rule -1. */
function verdictOf(plan: DecisionPlan, a: AuthzAttributes): Verdict | undefined {
  const deny = plan.deny;
  for (let i = 0; i < deny.length; i++) {
    const e = deny[i] as RuleEntry;
    if (e.matches(a)) return { policy: e.policy, rule: e.rule };
  }
  if (plan.allowPolicies === '') return undefined;
  const allow = plan.allow;
  for (let i = 0; i < allow.length; i++) if ((allow[i] as RuleEntry).matches(a)) return undefined;
  return { policy: plan.allowPolicies, rule: -1 };
}
