// The request authentication filter, Envoy's jwt_authn as Istio configures it: headers only the proxy
// may set are removed from every request; a request without a token passes unauthenticated; every
// token it carries must verify (a bad token beside a good one could be what the app reads), else the
// request is refused with Envoy's status and text; a verified token's payload and claims go to the
// headers the rules name and the token leaves the request unless forwardOriginalToken. The first
// token found is the one authorization reads (Istio: with several, which one is undefined). A CORS
// preflight passes untouched, as Istio has Envoy bypass it. Verification is asynchronous (WebCrypto),
// so a request with a token is decided when its tokens are, unless each was verified lately
// (token-cache.ts).

import type { IncomingRequest } from '../http/index.ts';
import type { CompiledAuthn, CompiledJwtRule } from './compile-authn.ts';
import { type FoundToken, findTokens, withoutToken } from './find-tokens.ts';
import type { JwtStatusName } from './jwt-status.ts';
import type { VerifiedToken } from './token-cache.ts';
import { CLOCK_SKEW_S, type TokenCheck, verifyToken } from './verify-token.ts';

/** A verified token's claims as authorization reads them: `scope`, `permission` and the rule's space-delimited claims as lists. */
export type JwtClaims = Readonly<Record<string, unknown>>;

export type AuthnOutcome =
  /** No token (or no rule): nothing to authenticate; `headers` are the request's, sanitized. */
  | { kind: 'anonymous'; headers: string[] }
  | { kind: 'verified'; claims: JwtClaims; headers: string[]; path: string; issuer: string | undefined }
  | { kind: 'refused'; status: JwtStatusName; issuer: string | undefined; policy: string | undefined };

const SPACE_DELIMITED_ALWAYS = ['scope', 'permission'];

export function authenticate(
  authn: CompiledAuthn,
  req: IncomingRequest,
): AuthnOutcome | Promise<AuthnOutcome> {
  if (authn.isEmpty || isCorsPreflight(req)) return { kind: 'anonymous', headers: req.headers };
  const headers = sanitized(req.headers, authn.sanitized);
  const tokens = findTokens(authn.locations, headers, req.path);
  if (tokens.length === 0) return { kind: 'anonymous', headers };
  const nowS = Date.now() / 1000;
  const cached = tokens.map((t) => authn.tokenCache.get(t.token, t.location.rules, nowS, CLOCK_SKEW_S));
  if (cached.every((c) => c !== undefined)) return outcomeOf(tokens, cached, headers, req.path);
  const checks = tokens.map(
    (t, i): Check | Promise<Check> =>
      cached[i] ??
      verifyToken(t.token, t.location.rules, nowS).then((c) => {
        if (!c.ok) return c;
        const verified = { ...c, claims: normalizedClaims(c.payload, c.rule.spec.spaceDelimitedClaims) };
        authn.tokenCache.set(t.token, verified);
        return verified;
      }),
  );
  return Promise.all(checks).then((done) => outcomeOf(tokens, done, headers, req.path));
}

type Check = VerifiedToken | Extract<TokenCheck, { ok: false }>;

function outcomeOf(
  tokens: readonly FoundToken[],
  checks: readonly Check[],
  headers: string[],
  path: string,
): AuthnOutcome {
  let out = { headers, path };
  const added: string[] = [];
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as Check;
    const location = (tokens[i] as FoundToken).location;
    if ('status' in c) {
      return {
        kind: 'refused',
        status: c.status,
        issuer: c.issuer,
        policy: policyOf(location.rules, c.issuer),
      };
    }
    const spec = c.rule.spec;
    if (spec.outputPayloadToHeader !== undefined)
      added.push(spec.outputPayloadToHeader.toLowerCase(), c.payloadB64);
    for (const o of spec.outputClaimToHeaders) {
      const value = claimHeaderValue(c.payload, o.claim);
      if (value !== undefined) added.push(o.header.toLowerCase(), value);
    }
    if (!spec.forwardOriginalToken) out = withoutToken(out, location);
  }
  const first = checks[0] as VerifiedToken;
  return {
    kind: 'verified',
    claims: first.claims,
    headers: added.length === 0 ? out.headers : [...out.headers, ...added],
    path: out.path,
    issuer: typeof first.payload.iss === 'string' ? first.payload.iss : undefined,
  };
}

function policyOf(rules: readonly CompiledJwtRule[], issuer: string | undefined): string | undefined {
  return (rules.find((r) => r.spec.issuer === issuer) ?? (rules.length === 1 ? rules[0] : undefined))?.spec
    .policy;
}

/** Envoy's isCorsPreflightRequest: OPTIONS with Origin and Access-Control-Request-Method. */
function isCorsPreflight(req: IncomingRequest): boolean {
  if (req.method !== 'OPTIONS') return false;
  let origin = false;
  let method = false;
  for (let i = 0; i + 1 < req.headers.length; i += 2) {
    if (req.headers[i] === 'origin' && req.headers[i + 1] !== '') origin = true;
    else if (req.headers[i] === 'access-control-request-method' && req.headers[i + 1] !== '') method = true;
  }
  return origin && method;
}

function sanitized(headers: string[], names: ReadonlySet<string>): string[] {
  if (names.size === 0) return headers;
  let out: string[] | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (names.has(headers[i] as string)) out ??= headers.slice(0, i);
    else out?.push(headers[i] as string, headers[i + 1] as string);
  }
  return out ?? headers;
}

/**
 * A claim (`a.b` for a nested one) as a header value, as Envoy copies it: a string as is, a number
 * (an integer without a fraction), true or false; anything else, or a value no header may carry, is
 * left out.
 */
export function claimHeaderValue(
  payload: Readonly<Record<string, unknown>>,
  claim: string,
): string | undefined {
  let v: unknown = payload;
  for (const part of claim.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  const text =
    typeof v === 'string'
      ? v
      : typeof v === 'number' && Number.isFinite(v)
        ? String(v)
        : typeof v === 'boolean'
          ? String(v)
          : undefined;
  return text === undefined || text === '' || /[\0\r\n]/.test(text) ? undefined : text;
}

/** The payload with space-delimited claims (`scope`, `permission`, the rule's own) split into lists. */
export function normalizedClaims(
  payload: Readonly<Record<string, unknown>>,
  spaceDelimitedClaims: readonly string[],
): JwtClaims {
  const names = [...SPACE_DELIMITED_ALWAYS, ...spaceDelimitedClaims];
  let out: Record<string, unknown> | undefined;
  for (const name of names) {
    const path = name.split('.');
    const value = valueAt(payload, path);
    if (typeof value !== 'string') continue;
    out ??= structuredClone(payload) as Record<string, unknown>;
    setAt(
      out,
      path,
      value.split(' ').filter((s) => s !== ''),
    );
  }
  return out ?? payload;
}

function valueAt(v: unknown, path: readonly string[]): unknown {
  for (const part of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = target;
  for (const part of path.slice(0, -1)) o = o[part] as Record<string, unknown>;
  o[path[path.length - 1] as string] = value;
}
