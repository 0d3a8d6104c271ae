// Where a request's tokens are, as Envoy's JWT extractor finds them: every line of each header
// location (after its prefix, found anywhere in the value, then from the first character a token can
// hold), the first value of each query parameter, each cookie. And how a verified token is taken out
// of the request the app gets: its header removed, its query parameter dropped (a cookie stays, as in
// Envoy).

import type { TokenLocation } from './compile-authn.ts';

export interface FoundToken {
  token: string;
  location: TokenLocation;
}

const TOKEN_CHAR = /[A-Za-z0-9\-_.]/;

export function findTokens(
  locations: readonly TokenLocation[],
  headers: readonly string[],
  path: string,
): FoundToken[] {
  const found: FoundToken[] = [];
  let query: URLSearchParams | undefined;
  let cookies: Map<string, string> | undefined;
  for (const loc of locations) {
    if (loc.kind === 'header') {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (headers[i] !== loc.name) continue;
        const token = afterPrefix(headers[i + 1] as string, loc.prefix);
        if (token !== undefined) found.push({ token, location: loc });
      }
    } else if (loc.kind === 'param') {
      if (!path.includes('?')) continue;
      query ??= new URLSearchParams(queryOf(path));
      const token = query.get(loc.name);
      if (token !== null) found.push({ token, location: loc });
    } else {
      cookies ??= cookiesOf(headers);
      const token = cookies.get(loc.name);
      if (token !== undefined) found.push({ token, location: loc });
    }
  }
  return found;
}

/** The token in a header value: after `prefix` (none: the whole value), from the first token character. */
function afterPrefix(value: string, prefix: string): string | undefined {
  if (prefix === '') return value;
  const at = value.indexOf(prefix);
  if (at === -1) return undefined;
  const rest = value.slice(at + prefix.length);
  for (let i = 0; i < rest.length; i++) if (TOKEN_CHAR.test(rest[i] as string)) return rest.slice(i);
  // Envoy's extractor: no token character after the prefix leaves the whole value (refused later).
  return value;
}

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? '' : path.slice(q + 1);
}

/** Cookie pairs of every Cookie header, the first of each name, surrounding quotes removed. */
function cookiesOf(headers: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const pair of (headers[i + 1] as string).split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!out.has(name)) out.set(name, value);
    }
  }
  return out;
}

/** The request without the token's header (every line of it) or query parameter. */
export function withoutToken(
  req: { headers: string[]; path: string },
  location: TokenLocation,
): { headers: string[]; path: string } {
  if (location.kind === 'header') {
    const headers: string[] = [];
    for (let i = 0; i + 1 < req.headers.length; i += 2) {
      if (req.headers[i] !== location.name)
        headers.push(req.headers[i] as string, req.headers[i + 1] as string);
    }
    return { headers, path: req.path };
  }
  if (location.kind === 'param') {
    const q = req.path.indexOf('?');
    if (q === -1) return req;
    const kept = req.path
      .slice(q + 1)
      .split('&')
      .filter((pair) => {
        const eq = pair.indexOf('=');
        const raw = eq === -1 ? pair : pair.slice(0, eq);
        return decodedName(raw) !== location.name;
      });
    const base = req.path.slice(0, q);
    return { headers: req.headers, path: kept.length === 0 ? base : `${base}?${kept.join('&')}` };
  }
  return req;
}

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
