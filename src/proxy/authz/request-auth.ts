// What a policy reads of the request's verified JWT, as Istio compiles it into Envoy's metadata
// matchers: requestPrincipals and request.auth.principal match `iss/sub` split at its last `/`, the
// issuer and the subject each by its own matcher (`*` alone needs both present); request.auth.claims
// follows nested claims (`[a][b]`) and matches a string claim, or any string of a list claim;
// request.auth.audiences reads `aud` and request.auth.presenter `azp` the same way. Without a
// verified token every one of these is absent: a value never matches, a notValue always does.

import type { AuthzAttributes, JwtClaims } from './attributes.ts';
import { stringTest, type Test } from './value-match.ts';

export type ClaimsCheck = (a: AuthzAttributes) => boolean;

/** Any of `patterns` against the token's `iss` and `sub` (Istio's requestPrincipalGenerator). */
export function requestPrincipalCheck(patterns: readonly string[]): ClaimsCheck {
  const tests = patterns.map(principalTest);
  return (a) => {
    const claims = a.jwtClaims;
    if (claims === undefined) return false;
    const iss = typeof claims.iss === 'string' ? claims.iss : undefined;
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    return tests.some((t) => t(iss, sub));
  };
}

const present: Test = (v) => v !== undefined && v !== '';

function principalTest(value: string): (iss: string | undefined, sub: string | undefined) => boolean {
  const slash = value.lastIndexOf('/');
  const hasSlash = slash !== -1;
  const iss = hasSlash ? value.slice(0, slash) : value;
  const sub = hasSlash ? value.slice(slash + 1) : '';
  let issTest: Test;
  let subTest: Test;
  if (value === '*') {
    issTest = present;
    subTest = present;
  } else if (value.startsWith('*')) {
    if (hasSlash) {
      issTest = iss === '*' ? present : stringTest(iss);
      subTest = stringTest(sub);
    } else {
      issTest = present;
      subTest = stringTest(value);
    }
  } else if (value.endsWith('*')) {
    if (hasSlash) {
      issTest = stringTest(iss);
      subTest = sub === '*' ? present : stringTest(sub);
    } else {
      issTest = stringTest(value);
      subTest = present;
    }
  } else {
    issTest = stringTest(iss);
    subTest = stringTest(sub);
  }
  return (i, s) => issTest(i) && subTest(s);
}

/** `request.auth.claims[groups][admin]` → `['groups', 'admin']`; undefined when not that form. */
export function claimPath(key: string): string[] | undefined {
  const rest = key.slice('request.auth.claims'.length);
  const names = rest.match(/\[[^[\]]*\]/g);
  if (names === null || names.join('') !== rest) return undefined;
  return names.map((n) => n.slice(1, -1));
}

/** `values` (any) against the claim at `path`: a string claim, or any string of a list claim. */
export function claimCheck(path: readonly string[], values: readonly string[]): ClaimsCheck {
  const tests = values.map((v) => stringTest(v));
  const matches = (v: unknown) => typeof v === 'string' && tests.some((t) => t(v));
  return (a) => {
    const v = claimAt(a.jwtClaims, path);
    return Array.isArray(v) ? v.some(matches) : matches(v);
  };
}

function claimAt(claims: JwtClaims | undefined, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const name of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[name];
  }
  return v;
}
