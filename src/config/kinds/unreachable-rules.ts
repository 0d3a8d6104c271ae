// Warnings for VirtualService rules that can never match, as Istio's analyzeUnreachable*Rules emit
// them: a rule after one without matches, a match repeated from an earlier rule, and an HTTP URI
// prefix match that an earlier, broader prefix match already takes.

import type { Checker } from '../schema.ts';

interface Rule {
  match?: readonly object[];
}

/** Warns about unreachable rules of one list (`http`, `tcp` or `tls`) of a VirtualService. */
export function warnUnreachableRules(list: 'http' | 'tcp' | 'tls', rules: readonly Rule[], c: Checker): void {
  const seen = new Map<string, { rule: number; match: number }>();
  const prefixes: PrefixMatch[] = [];
  let catchAll = -1;
  rules.forEach((rule, r) => {
    const matches = rule.match ?? [];
    if (matches.length === 0) {
      if (catchAll >= 0) {
        c.warn(`is never used: ${list}[${catchAll}] has no match and takes every request first`, list, r);
      }
      catchAll = r;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, i) => {
      if (catchAll >= 0) {
        c.warn(
          `is never used: ${list}[${catchAll}] has no match and takes every request first`,
          list,
          r,
          'match',
          i,
        );
        return;
      }
      const key = canonicalJson(withoutName(m));
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        c.warn(
          `is never used: ${list}[${earlier.rule}].match[${earlier.match}] is the same match and comes first`,
          list,
          r,
          'match',
          i,
        );
        duplicates++;
        return;
      }
      seen.set(key, { rule: r, match: i });
      if (list === 'http') {
        const p = prefixMatchOf(m as HttpMatch, r, i);
        if (p !== undefined) prefixes.push(p);
      }
    });
    if (duplicates === matches.length)
      c.warn('is never used: earlier rules take all of its matches', list, r);
  });
  warnCoveredPrefixes(prefixes, c);
}

function withoutName(m: object): object {
  const { name: _name, ...rest } = m as { name?: unknown };
  return rest;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface StringMatch {
  exact?: string;
  prefix?: string;
}

interface HttpMatch {
  uri?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  port?: number;
  headers?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
}

/** Istio's OverlappingMatchValidationForHTTPRoute: the parts of a URI prefix match it compares. */
interface PrefixMatch {
  rule: number;
  match: number;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  maps: Map<string, string>[];
}

function exactOrPrefix(m: StringMatch | undefined): string {
  if (m?.exact) return `exact:${m.exact}`;
  if (m?.prefix) return `prefix:${m.prefix}`;
  return '';
}

function toMap(record: Record<string, StringMatch> | undefined): Map<string, string> {
  return new Map(Object.entries(record ?? {}).map(([k, v]) => [k, exactOrPrefix(v)]));
}

/** Istio's genMatchHTTPRoutes: only matches with a non-empty URI prefix take part. */
function prefixMatchOf(m: HttpMatch, rule: number, match: number): PrefixMatch | undefined {
  const prefix = m.uri?.prefix;
  if (!prefix) return undefined;
  return {
    rule,
    match,
    prefix,
    port: m.port ?? 0,
    method: exactOrPrefix(m.method) || 'exact:GET',
    authority: exactOrPrefix(m.authority),
    maps: [toMap(m.headers), toMap(m.queryParams), toMap(m.withoutHeaders)],
  };
}

/** Istio's coveredValidation: whether the earlier match `a` takes every request the later `b` would. */
function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix) || a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return a.maps.every((am, i) => {
    const bm = b.maps[i] as Map<string, string>;
    if (am.size !== bm.size) return false;
    for (const [k, av] of am) {
      const bv = bm.get(k);
      if (bv === undefined || (av !== bv && !av.startsWith(bv))) return false;
    }
    return true;
  });
}

function warnCoveredPrefixes(prefixes: readonly PrefixMatch[], c: Checker): void {
  prefixes.forEach((a, i) => {
    for (const b of prefixes.slice(i + 1)) {
      if (b.prefix === a.prefix || !covers(a, b)) continue;
      c.warn(
        `is never used: http[${a.rule}].match[${a.match}] (prefix ${JSON.stringify(a.prefix)}) comes first and takes every request this prefix ${JSON.stringify(b.prefix)} would`,
        'http',
        b.rule,
        'match',
        b.match,
      );
    }
  });
}
