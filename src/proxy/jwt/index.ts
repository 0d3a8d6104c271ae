// Public face of request authentication: RequestAuthentication rules compiled per snapshot (with the
// key sets the proxy fetches), and the filter that finds, verifies and forwards a request's tokens.

export {
  type AuthnOutcome,
  authenticate,
  claimHeaderValue,
  type JwtClaims,
  normalizedClaims,
} from './authenticate.ts';
export { type CompiledAuthn, compileAuthn, NO_AUTHN, retireAuthn } from './compile-authn.ts';
export { httpStatusOf, JwtStatus, type JwtStatusName } from './jwt-status.ts';
