// Public face of authorization: AuthorizationPolicies compiled per snapshot, and the decision for a
// request or a connection.

export {
  type AuthzAttributes,
  type HttpAttributes,
  remoteIpOf,
} from './attributes.ts';
export { type CompiledAuthz, compileAuthz } from './compile-authz.ts';
export {
  ALLOWED,
  type AuthzDecision,
  connectionPlans,
  decide,
  decideWith,
  type TrafficPlans,
  type Verdict,
} from './decide.ts';
export {
  type AuthzExplanation,
  explainAuthz,
  formatAuthzExplanation,
  type PolicyExplanation,
} from './explain-authz.ts';
