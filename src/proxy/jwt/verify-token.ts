// One token checked as Envoy's jwt_authn checks it, in its order: the form (three base64url parts,
// a JSON header with a supported `alg`, a JSON payload), the issuer (it picks the rules that may
// verify it), the time (`exp`, `nbf`, with Envoy's 60 s of clock skew), the audience, and last the
// signature with jose against the rule's keys. A token naming a key id the fetched set lacks makes
// the set be fetched again (rate-limited) and is tried once more with the new keys.

import type { webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import type { CompiledJwtRule } from './compile-authn.ts';
import { normalizedAudience } from './compile-authn.ts';
import { JwksSource } from './jwks-source.ts';
import type { JwtStatusName } from './jwt-status.ts';
import { JWT_ALGORITHMS, type KeySet, NO_KEYS } from './key-set.ts';

/** Envoy's default clock skew for `exp` and `nbf`, in seconds. */
export const CLOCK_SKEW_S = 60;

export type TokenCheck =
  | { ok: true; rule: CompiledJwtRule; payload: JWTPayload; payloadB64: string; keys: KeySet }
  | {
      ok: false;
      status: JwtStatusName;
      /** The token's issuer when a rule names it (labels stay bounded: an unknown issuer is left out). */
      issuer?: string;
    };

const ALGORITHMS = new Set(JWT_ALGORITHMS);

export async function verifyToken(
  token: string,
  rules: readonly CompiledJwtRule[],
  nowS = Date.now() / 1000,
): Promise<TokenCheck> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return { ok: false, status: 'JwtBadFormat' };
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.alg !== 'string' || !ALGORITHMS.has(header.alg))
      return { ok: false, status: 'JwtHeaderNotImplementedAlg' };
    kid = typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return { ok: false, status: 'JwtHeaderParseError' };
  }
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    return { ok: false, status: 'JwtPayloadParseError' };
  }
  const iss = typeof payload.iss === 'string' ? payload.iss : undefined;
  const candidates = rules.filter((r) => r.spec.issuer === undefined || r.spec.issuer === iss);
  if (candidates.length === 0) return { ok: false, status: 'JwtUnknownIssuer' };
  const issuer = candidates.some((r) => r.spec.issuer === iss) ? iss : undefined;
  let first: TokenCheck | undefined;
  for (const rule of candidates) {
    const signed = claimsStatus(payload, rule, nowS) ?? (await signatureStatus(token, kid, rule));
    if (typeof signed !== 'string')
      return { ok: true, rule, payload, payloadB64: parts[1] as string, keys: signed };
    const status = signed;
    first ??= issuer === undefined ? { ok: false, status } : { ok: false, status, issuer };
  }
  return first as TokenCheck;
}

function claimsStatus(p: JWTPayload, rule: CompiledJwtRule, nowS: number): JwtStatusName | undefined {
  if (
    (p.exp !== undefined && typeof p.exp !== 'number') ||
    (p.nbf !== undefined && typeof p.nbf !== 'number')
  )
    return 'JwtPayloadParseError';
  if (p.nbf !== undefined && nowS + CLOCK_SKEW_S < p.nbf) return 'JwtNotYetValid';
  if (p.exp !== undefined && nowS > p.exp + CLOCK_SKEW_S) return 'JwtExpired';
  if (rule.audiences.size === 0) return undefined;
  const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud : [];
  return aud.some((a) => typeof a === 'string' && rule.audiences.has(normalizedAudience(a)))
    ? undefined
    : 'JwtAudienceNotAllowed';
}

/** The signature against the rule's keys: the keys it holds with, or why it does not. */
async function signatureStatus(
  token: string,
  kid: string | undefined,
  rule: CompiledJwtRule,
): Promise<JwtStatusName | KeySet> {
  const source = rule.keys;
  if (!(source instanceof JwksSource)) return (await signedBy(token, source)) ?? source;
  const keys = await source.keys();
  if (keys === undefined) return 'JwksFetchFail';
  const status = await signedBy(token, keys);
  if (status === undefined) return keys;
  if (status !== 'JwksKidAlgMismatch' || kid === undefined || keys.kids.has(kid)) return status;
  const fresh = await source.refetch();
  if (fresh === undefined || fresh === keys) return status;
  return (await signedBy(token, fresh)) ?? fresh;
}

async function signedBy(token: string, keys: KeySet): Promise<JwtStatusName | undefined> {
  if (keys === NO_KEYS || keys.size === 0) return 'JwksNoValidKeys';
  const options = { algorithms: JWT_ALGORITHMS, clockTolerance: CLOCK_SKEW_S };
  try {
    await jwtVerify(token, keys.getKey, options);
    return undefined;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) return statusOf(err);
    // Several keys fit the token's kid and alg (or it names none): any one that verifies will do.
    for await (const key of err as unknown as AsyncIterable<webcrypto.CryptoKey>) {
      try {
        await jwtVerify(token, key, options);
        return undefined;
      } catch {}
    }
    return 'JwtVerificationFail';
  }
}

function statusOf(err: unknown): JwtStatusName {
  if (err instanceof errors.JWKSNoMatchingKey) return 'JwksKidAlgMismatch';
  if (err instanceof errors.JWTExpired) return 'JwtExpired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return err.claim === 'nbf' ? 'JwtNotYetValid' : 'JwtPayloadParseError';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'JwtBadFormat';
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return 'JwtHeaderNotImplementedAlg';
  return 'JwtVerificationFail';
}
