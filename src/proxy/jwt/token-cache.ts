// Tokens verified lately, so that a caller sending the same token again (every request of a session)
// is not checked again: Envoy's jwt_authn keeps such a cache too. An entry holds while its rule is
// one that reads the token's location, the keys it was verified with are still the rule's keys (a
// refresh that drops a key drops its tokens), and its time (`exp`, `nbf`) still holds. Bounded,
// oldest out first; one cache per snapshot's rules. A hit is decided without waiting.

import type { JWTPayload } from 'jose';
import type { CompiledJwtRule } from './compile-authn.ts';
import { JwksSource } from './jwks-source.ts';
import type { KeySet } from './key-set.ts';

/**
 * A miss costs 0.1–0.4 ms of signature check on the 2-core development machine, a hit a few µs
 * (authenticate.bench.ts); 256 tokens of about 1 KiB bound the cache near 256 KiB per snapshot.
 */
export const TOKEN_CACHE_SIZE = 256;

export interface VerifiedToken {
  rule: CompiledJwtRule;
  payload: JWTPayload;
  /** The payload as the token carries it, base64url. */
  payloadB64: string;
  /** The claims as authorization reads them (space-delimited claims split). */
  claims: Readonly<Record<string, unknown>>;
  keys: KeySet;
}

export class TokenCache {
  readonly #entries = new Map<string, VerifiedToken>();

  /** The token's earlier verification, if it still holds for one of `rules` at `nowS`. */
  get(
    token: string,
    rules: readonly CompiledJwtRule[],
    nowS: number,
    skewS: number,
  ): VerifiedToken | undefined {
    const hit = this.#entries.get(token);
    if (hit === undefined) return undefined;
    const keys = hit.rule.keys instanceof JwksSource ? hit.rule.keys.current : hit.rule.keys;
    const p = hit.payload;
    const timely =
      (p.exp === undefined || nowS <= p.exp + skewS) && (p.nbf === undefined || nowS + skewS >= p.nbf);
    if (!rules.includes(hit.rule) || keys !== hit.keys || !timely) {
      this.#entries.delete(token);
      return undefined;
    }
    return hit;
  }

  set(token: string, verified: VerifiedToken): void {
    this.#entries.delete(token);
    if (this.#entries.size >= TOKEN_CACHE_SIZE) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, verified);
  }
}
