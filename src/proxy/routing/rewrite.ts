// A route's path rewrite, compiled per match block because Envoy's prefix_rewrite replaces what that
// block matched: its prefix, the whole path for exact and regex matches, `/` when it has no uri.
// uriRegexRewrite is Envoy's regex_rewrite: every match in the path replaced. The query is kept.

import { compileRe2, translateRe2 } from '../../config/core.ts';
import type { Rewrite } from '../../wire/index.ts';
import type { CompiledMatch } from './route-match.ts';
import { pathEnd } from './route-request.ts';
import { startsWithFold } from './string-match.ts';

/** Rewrites a request target (path with query); returns it unchanged when no rewrite applies. */
export type PathRewriter = (path: string) => string;

const IDENTITY: PathRewriter = (path) => path;

/** The path rewrite for requests that matched `match` (undefined: a route or block without uri). */
export function compilePathRewrite(
  rewrite: Rewrite | undefined,
  match: CompiledMatch | undefined,
): PathRewriter {
  if (rewrite?.uriRegex !== undefined) return regexRewriter(rewrite.uriRegex.match, rewrite.uriRegex.rewrite);
  const to = rewrite?.uri;
  if (to === undefined || to === '') return IDENTITY;
  const uri = match?.uri;
  // Istio writes a match without uri as prefix "/".
  if (uri === undefined || 'prefix' in uri) {
    const prefix = uri === undefined ? '/' : uri.prefix;
    const ignoreCase = match?.ignoreUriCase === true;
    return (path) => (startsWith(path, prefix, ignoreCase) ? to + path.slice(prefix.length) : path);
  }
  // Exact and regex: the whole path (without query) is what matched.
  return (path) => to + path.slice(pathEnd(path));
}

function startsWith(path: string, prefix: string, ignoreCase: boolean): boolean {
  return ignoreCase ? startsWithFold(path, prefix) : path.startsWith(prefix);
}

/**
 * Envoy's regex_rewrite: RE2 GlobalReplace over the path without query, `\0`–`\9` naming groups.
 * An empty result leaves the path as it was, as Envoy does.
 */
function regexRewriter(pattern: string, substitution: string): PathRewriter {
  const re = compileRe2(pattern, 'global');
  const parts = parseSubstitution(substitution, translateRe2(pattern).groups, pattern);
  const replace = (...args: unknown[]): string => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : ((args[p] as string | undefined) ?? '');
    return out;
  };
  return (path) => {
    const end = pathEnd(path);
    const rewritten = path.slice(0, end).replace(re, replace);
    return rewritten === '' ? path : rewritten + path.slice(end);
  };
}

/** An RE2 rewrite string as literal text and group numbers; refuses `\N` beyond the groups. */
function parseSubstitution(text: string, groups: number, pattern: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let lit = '';
  for (let k = 0; k < text.length; k++) {
    const ch = text[k] as string;
    if (ch !== '\\') {
      lit += ch;
      continue;
    }
    const n = text[++k];
    if (n === '\\') {
      lit += '\\';
      continue;
    }
    if (n === undefined || !/[0-9]/.test(n)) {
      throw new Error(
        `uriRegexRewrite rewrite ${JSON.stringify(text)}: a backslash must be followed by a digit or \\`,
      );
    }
    if (Number(n) > groups) {
      throw new Error(
        `uriRegexRewrite rewrite ${JSON.stringify(text)} uses \\${n}, but ${JSON.stringify(pattern)} has ${groups} group(s)`,
      );
    }
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(Number(n));
  }
  if (lit !== '') parts.push(lit);
  return parts;
}
