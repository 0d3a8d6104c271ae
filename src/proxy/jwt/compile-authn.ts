// RequestAuthentication rules compiled once per snapshot: each rule with its keys (an inline set
// parsed now, a jwksUri's source carried over from the previous snapshot when the URI is the same,
// so keys are not fetched again for every config change), and the token locations of all rules
// merged as Envoy's extractor merges them: one entry per header (and prefix), query parameter or
// cookie, knowing which rules read it.

import type { JwtRule } from '../../wire/index.ts';
import { JwksSource, type JwksSourceOptions } from './jwks-source.ts';
import { inlineKeySet, type KeySet } from './key-set.ts';
import { TokenCache } from './token-cache.ts';

export interface CompiledJwtRule {
  readonly spec: JwtRule;
  /** The keys, or where they come from. */
  readonly keys: KeySet | JwksSource;
  /** `audiences` as Envoy compares them: without `http(s)://` and a trailing `/`. */
  readonly audiences: ReadonlySet<string>;
}

export interface TokenLocation {
  kind: 'header' | 'param' | 'cookie';
  /** A header's lower-case name, a query parameter's or a cookie's name. */
  name: string;
  /** Headers only: what precedes the token ('' for none). */
  prefix: string;
  /** The rules that read a token here. */
  rules: CompiledJwtRule[];
}

export interface CompiledAuthn {
  /** No rule in force: requests pass untouched. */
  isEmpty: boolean;
  rules: readonly CompiledJwtRule[];
  /** Header locations first, then query parameters, then cookies, each sorted by name (Envoy's order). */
  locations: readonly TokenLocation[];
  hasParams: boolean;
  /** Headers the proxy alone may set (outputPayloadToHeader, outputClaimToHeaders): removed from every request. */
  sanitized: ReadonlySet<string>;
  /** The fetched key sets by URI (or issuer, for discovery), handed on to the next snapshot's. */
  sources: ReadonlyMap<string, JwksSource>;
  /** Tokens verified lately under these rules. */
  tokenCache: TokenCache;
}

export const NO_AUTHN: CompiledAuthn = {
  isEmpty: true,
  rules: [],
  locations: [],
  hasParams: false,
  sanitized: new Set(),
  sources: new Map(),
  tokenCache: new TokenCache(),
};

export function compileAuthn(
  specs: readonly JwtRule[] | undefined,
  o: { previous: CompiledAuthn | undefined; onFetch: JwksSourceOptions['onFetch'] },
): CompiledAuthn {
  if (specs === undefined || specs.length === 0) return NO_AUTHN;
  const sources = new Map<string, JwksSource>();
  const sourceFor = (spec: JwtRule): JwksSource => {
    const key = spec.jwksUri ?? `discovery:${spec.issuer}`;
    const had = sources.get(key) ?? o.previous?.sources.get(key);
    const source =
      had ??
      new JwksSource({
        uri: spec.jwksUri,
        issuer: spec.issuer,
        timeoutMs: spec.timeoutMs,
        onFetch: o.onFetch,
      });
    sources.set(key, source);
    return source;
  };
  const rules = specs.map(
    (spec): CompiledJwtRule => ({
      spec,
      keys: spec.jwks !== undefined ? inlineKeySet(spec.jwks) : sourceFor(spec),
      audiences: new Set(spec.audiences.map(normalizedAudience)),
    }),
  );
  const byKey = new Map<string, TokenLocation>();
  const add = (kind: TokenLocation['kind'], name: string, prefix: string, rule: CompiledJwtRule) => {
    const key = `${kind}\0${name}\0${prefix}`;
    const loc = byKey.get(key) ?? { kind, name, prefix, rules: [] };
    if (!loc.rules.includes(rule)) loc.rules.push(rule);
    byKey.set(key, loc);
  };
  for (const rule of rules) {
    const s = rule.spec;
    for (const h of s.fromHeaders) add('header', h.name.toLowerCase(), h.prefix, rule);
    for (const p of s.fromParams) add('param', p, '', rule);
    for (const c of s.fromCookies) add('cookie', c, '', rule);
    if (s.fromHeaders.length === 0 && s.fromParams.length === 0 && s.fromCookies.length === 0) {
      add('header', 'authorization', 'Bearer ', rule);
      add('param', 'access_token', '', rule);
    }
  }
  const order = { header: 0, param: 1, cookie: 2 };
  const locations = [...byKey.values()].sort(
    (a, b) =>
      order[a.kind] - order[b.kind] ||
      (a.name + a.prefix < b.name + b.prefix ? -1 : a.name + a.prefix > b.name + b.prefix ? 1 : 0),
  );
  const sanitized = new Set<string>();
  for (const s of specs) {
    if (s.outputPayloadToHeader !== undefined) sanitized.add(s.outputPayloadToHeader.toLowerCase());
    for (const c of s.outputClaimToHeaders) sanitized.add(c.header.toLowerCase());
  }
  return {
    isEmpty: false,
    rules,
    locations,
    hasParams: locations.some((l) => l.kind === 'param'),
    sanitized,
    sources,
    tokenCache: new TokenCache(),
  };
}

/** The sources `old` fetched for that `current` no longer uses: they stop fetching. */
export function retireAuthn(old: CompiledAuthn, current: CompiledAuthn): void {
  for (const [key, source] of old.sources) if (current.sources.get(key) !== source) source.stop();
}

/** Envoy's audience comparison ignores an `http://` or `https://` scheme and a trailing `/`. */
export function normalizedAudience(aud: string): string {
  const bare = aud.startsWith('https://') ? aud.slice(8) : aud.startsWith('http://') ? aud.slice(7) : aud;
  return bare.endsWith('/') ? bare.slice(0, -1) : bare;
}
