// The request as routing sees it, the same for HTTP/1 and HTTP/2, and the per-request view that
// derives what matchers need (path without query, query parameters, joined header values) at most
// once per request. Built by the router per request; the codecs fill RouteRequest.

/** What routing reads of a request. The codecs fill it; nothing here copies or lower-cases headers. */
export interface RouteRequest {
  method: string;
  /** The request target in origin form, query included: `/reviews/1?full=true`. */
  path: string;
  /** `:authority`, or the Host header of HTTP/1 (`reviews:9080`). */
  authority: string;
  /** `http` or `https`. */
  scheme: string;
  /** The destination port the client addressed (the port of the virtual host it was routed by). */
  port: number;
  /** Regular headers as `[name, value, name, value, …]`, names lower-case, no pseudo-headers. */
  headers: readonly string[];
}

/** Where the path ends: at the first `?` or `#` (Envoy's removeQueryAndFragment). */
export function pathEnd(path: string): number {
  const q = path.indexOf('?');
  const h = path.indexOf('#');
  if (q === -1) return h === -1 ? path.length : h;
  return h === -1 || q < h ? q : h;
}

/**
 * The value of header `name`: undefined when absent, several values joined with `,` as Envoy
 * does for matching. `host` and the pseudo-headers read the request's own fields, so a match on
 * them behaves the same over HTTP/1 and HTTP/2.
 */
export function headerValue(req: RouteRequest, name: string): string | undefined {
  switch (name) {
    case ':authority':
    case 'host':
      return req.authority;
    case ':method':
      return req.method;
    case ':path':
      return req.path;
    case ':scheme':
      return req.scheme;
  }
  const h = req.headers;
  let value: string | undefined;
  for (let k = 0; k < h.length; k += 2) {
    if (h[k] !== name) continue;
    const v = h[k + 1] as string;
    value = value === undefined ? v : `${value},${v}`;
  }
  return value;
}

/** One request's derived values, computed when a matcher first asks and kept for the rest. */
export class RequestView {
  readonly req: RouteRequest;
  /** The path without query string or fragment (what uri matches compare against). */
  readonly pathOnly: string;
  #query: Map<string, string> | undefined;

  constructor(req: RouteRequest) {
    this.req = req;
    const end = pathEnd(req.path);
    this.pathOnly = end === req.path.length ? req.path : req.path.slice(0, end);
  }

  /**
   * A query parameter's first value, undefined when absent, `''` for `?flag`. Values are compared
   * as sent, not percent-decoded (Envoy's route matcher uses parseQueryString, not the decoding one).
   */
  query(name: string): string | undefined {
    if (this.#query === undefined) this.#query = parseQuery(this.req.path);
    return this.#query.get(name);
  }
}

function parseQuery(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q === -1) return out;
  const h = path.indexOf('#', q);
  const text = path.slice(q + 1, h === -1 ? undefined : h);
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (!out.has(name)) out.set(name, eq === -1 ? '' : part.slice(eq + 1));
  }
  return out;
}
