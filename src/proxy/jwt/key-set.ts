// An issuer's public keys, ready to verify with: a JSON Web Key Set (or one key, as Istio reads an
// inline `jwks`) turned once into jose's key selector. Keys that cannot verify a signature here
// (private or symmetric key material, unknown types) are left out; a set with none left has
// `size` 0 and verifies nothing (Envoy's "Jwks doesn't have any valid public key").

import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** The signature algorithms tokens may use: asymmetric ones only, so no key is ever a shared secret. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/** At most this many keys of a set are used (a real issuer publishes a handful). */
export const MAX_KEYS = 100;

export interface KeySet {
  /** jose's selector: the key the token's `kid` and `alg` name. */
  readonly getKey: JWTVerifyGetKey;
  /** The key ids present, to tell a token signed by a key not fetched yet. */
  readonly kids: ReadonlySet<string>;
  readonly size: number;
}

export const NO_KEYS: KeySet = {
  getKey: () => Promise.reject(new Error('no keys')),
  kids: new Set(),
  size: 0,
};

/** The usable keys of a parsed JWKS document (`{keys: [...]}`, or a single key). */
export function keySetOf(document: unknown): KeySet {
  if (typeof document !== 'object' || document === null) return NO_KEYS;
  const listed = 'keys' in document ? (document as { keys: unknown }).keys : [document];
  if (!Array.isArray(listed)) return NO_KEYS;
  const keys = listed
    .filter(
      (k): k is Record<string, unknown> =>
        typeof k === 'object' &&
        k !== null &&
        PUBLIC_KEY_TYPES.has((k as { kty?: unknown }).kty as string) &&
        (k as { d?: unknown }).d === undefined,
    )
    .slice(0, MAX_KEYS);
  if (keys.length === 0) return NO_KEYS;
  let getKey: JWTVerifyGetKey;
  try {
    getKey = createLocalJWKSet({ keys } as unknown as JSONWebKeySet);
  } catch {
    return NO_KEYS;
  }
  const kids = new Set(keys.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : [])));
  return { getKey, kids, size: keys.length };
}

/** An inline `jwks` as written in the policy. */
export function inlineKeySet(text: string): KeySet {
  try {
    return keySetOf(JSON.parse(text));
  } catch {
    return NO_KEYS;
  }
}
