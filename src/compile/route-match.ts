// An HTTP route's `match` blocks as the wire's RouteMatch. What is known when the snapshot is built
// is decided here, as Istio's TranslateRoute does: a block for another port, another gateway, or
// other source labels or namespace than this proxy's is dropped (and kept in the wire match for
// explanations when it holds). Header and query matches with an empty StringMatch mean "present".

import type { HTTPMatchRequest, HttpStringMatch } from '../config/index.ts';
import type { HeaderMatch, QueryParamMatch, RouteMatch, StringMatch } from '../wire/index.ts';
import { isLabelSubset } from './config-index.ts';
import { isBoundToMesh } from './mesh-gateway.ts';

export interface MatchContext {
  /** The service port of the virtual host being built. */
  port: number;
  proxy: { namespace: string; labels: Readonly<Record<string, string>> };
}

/**
 * The blocks that can match on this proxy and port, in order; undefined when the route had blocks
 * and none can (the route is dropped), an empty list when it has none (it matches everything).
 */
export function routeMatchesFor(
  blocks: readonly HTTPMatchRequest[] | undefined,
  ctx: MatchContext,
): RouteMatch[] | undefined {
  if (blocks === undefined || blocks.length === 0) return [];
  const out: RouteMatch[] = [];
  for (const m of blocks) {
    if (m.port && m.port !== ctx.port) continue;
    if (!isSourceMatch(m, ctx.proxy)) continue;
    const match = translateMatch(m);
    out.push(match);
    if (isCatchAll(match)) break;
  }
  return out.length === 0 ? undefined : out;
}

/** Istio's sourceMatchHTTP: listed gateways decide alone; else source labels and namespace. */
function isSourceMatch(m: HTTPMatchRequest, proxy: MatchContext['proxy']): boolean {
  if ((m.gateways ?? []).length > 0) return isBoundToMesh(m.gateways);
  if (!isLabelSubset(m.sourceLabels, proxy.labels)) return false;
  return !m.sourceNamespace || m.sourceNamespace === proxy.namespace;
}

function translateMatch(m: HTTPMatchRequest): RouteMatch {
  const out: RouteMatch = {};
  if (m.name) out.name = m.name;
  const uri = stringMatchOf(m.uri);
  if (uri !== undefined) out.uri = uri;
  for (const key of ['scheme', 'method', 'authority'] as const) {
    const value = stringMatchOf(m[key]);
    if (value !== undefined) out[key] = value;
  }
  const headers = [
    ...Object.entries(m.headers ?? {}).map(([name, v]) => headerMatch(name, v, false)),
    ...Object.entries(m.withoutHeaders ?? {}).map(([name, v]) => headerMatch(name, v, true)),
  ];
  if (headers.length > 0) out.headers = headers;
  const query = Object.entries(m.queryParams ?? {}).map(([name, v]): QueryParamMatch => {
    const value = presentOrMatch(v);
    return value === undefined ? { name } : { name, value };
  });
  if (query.length > 0) out.queryParams = query;
  if (m.port) out.port = m.port;
  if (Object.keys(m.sourceLabels ?? {}).length > 0) out.sourceLabels = { ...m.sourceLabels };
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  if (m.ignoreUriCase === true) out.ignoreUriCase = true;
  return out;
}

function headerMatch(name: string, v: HttpStringMatch, isInverted: boolean): HeaderMatch {
  const value = presentOrMatch(v);
  const lower = name.toLowerCase();
  return value === undefined ? { name: lower, isInverted } : { name: lower, value, isInverted };
}

/** Istio's canBeConvertedToPresentMatch: an empty match, or the regex `*`, means "present". */
function presentOrMatch(v: HttpStringMatch | undefined): StringMatch | undefined {
  if (v?.regex === '*') return undefined;
  return stringMatchOf(v);
}

export function stringMatchOf(v: HttpStringMatch | undefined): StringMatch | undefined {
  if (v === undefined) return undefined;
  if (v.exact !== undefined) return { exact: v.exact };
  if (v.prefix !== undefined) return { prefix: v.prefix };
  if (v.regex !== undefined) return { regex: v.regex };
  return undefined;
}

/** Istio's IsCatchAllRoute: any path (`/` prefix), no header or query condition. */
export function isCatchAll(m: RouteMatch): boolean {
  const isAnyPath = m.uri === undefined || ('prefix' in m.uri && m.uri.prefix === '/');
  return (
    isAnyPath &&
    m.method === undefined &&
    m.authority === undefined &&
    m.scheme === undefined &&
    m.headers === undefined &&
    m.queryParams === undefined
  );
}
