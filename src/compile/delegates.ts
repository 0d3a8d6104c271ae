// VirtualService delegation as Istio's pilot merges it (virtualservice.go MergeHTTPRoutes): a root
// route with `delegate` is replaced by the delegate's HTTP routes. Each delegate match must fall
// within one of the root's matches; where it does, the two are AND-ed (the delegate's conditions on
// top of the root's), where it conflicts the delegate route is dropped, as Istio does. Fields the
// delegate route leaves unset (timeout, retries, fault, mirror, CORS, headers…) come from the root.

import type {
  HTTPMatchRequest,
  HTTPRoute,
  HttpStringMatch,
  Resource,
  VirtualServiceSpec,
} from '../config/index.ts';
import { namespaceOf, refName } from './config-index.ts';
import { isExportedTo } from './hosts.ts';
import { resolveSpecHosts } from './resolve-hosts.ts';
import type { SourcedHttpRoute } from './virtual-services.ts';

/** The HTTP routes of a root VirtualService (`spec` already resolved), delegates merged in. */
export function expandDelegates(
  root: Resource<VirtualServiceSpec>,
  spec: VirtualServiceSpec,
  all: readonly Resource<VirtualServiceSpec>[],
): SourcedHttpRoute[] {
  const rootRef = refName(root);
  return (spec.http ?? []).flatMap((route, i): SourcedHttpRoute[] => {
    const path = `http[${i}]`;
    if (route.delegate === undefined) {
      return [
        {
          route,
          name: route.name || path,
          origin: { kind: 'VirtualService', virtualServices: [rootRef], paths: [path] },
        },
      ];
    }
    const delegate = findDelegate(all, route.delegate, namespaceOf(root));
    if (delegate === undefined) return [];
    const delegateSpec = resolveSpecHosts(delegate.spec as VirtualServiceSpec, namespaceOf(delegate));
    return (delegateSpec.http ?? []).flatMap((leaf, j) => {
      const merged = mergeHttpRoute(route, leaf);
      if (merged === undefined) return [];
      return [
        {
          route: merged,
          name: merged.name || `http[${j}]`,
          origin: {
            kind: 'VirtualService',
            virtualServices: [rootRef, refName(delegate)],
            paths: [path, `http[${j}]`],
          },
        },
      ];
    });
  });
}

/** A delegate: a VirtualService without hosts, exported to the root's namespace. */
function findDelegate(
  all: readonly Resource<VirtualServiceSpec>[],
  ref: { name?: string; namespace?: string },
  rootNamespace: string,
): Resource<VirtualServiceSpec> | undefined {
  const namespace = ref.namespace || rootNamespace;
  const found = all.find((vs) => vs.metadata.name === ref.name && namespaceOf(vs) === namespace);
  if (found === undefined || (found.spec?.hosts ?? []).length > 0) return undefined;
  return isExportedTo(found.spec?.exportTo, namespace, rootNamespace) ? found : undefined;
}

const INHERITED = [
  'rewrite',
  'directResponse',
  'timeout',
  'retries',
  'fault',
  'mirror',
  'mirrorPercent',
  'mirror_percent',
  'mirrorPercentage',
  'corsPolicy',
  'mirrors',
  'headers',
] as const;

/** Istio's mergeHTTPRoute; undefined when the delegate's matches conflict with the root's. */
function mergeHttpRoute(root: HTTPRoute, leaf: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match ?? [], leaf.match ?? []);
  if (match === undefined) return undefined;
  const out: HTTPRoute = { ...leaf };
  delete out.delegate;
  if (match.length > 0) out.match = match;
  const name = root.name && leaf.name ? `${root.name}-${leaf.name}` : root.name || leaf.name;
  if (name) out.name = name;
  for (const key of INHERITED) {
    if (out[key] === undefined && root[key] !== undefined) (out as Record<string, unknown>)[key] = root[key];
  }
  return out;
}

/** Istio's mergeHTTPMatchRequests: each delegate match AND-ed with every root match it fits. */
function mergeMatches(root: HTTPMatchRequest[], leaf: HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return leaf;
  if (leaf.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const l of leaf) {
    const fits = root.filter((r) => !hasConflict(r, l));
    if (fits.length === 0) return undefined;
    out.push(...fits.map((r) => mergeMatch(r, l)));
  }
  return out;
}

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...leaf };
  const name = root.name && leaf.name ? `${root.name}-${leaf.name}` : root.name || leaf.name;
  if (name) out.name = name;
  for (const key of ['uri', 'scheme', 'method', 'authority', 'sourceNamespace', 'statPrefix'] as const) {
    if (!out[key] && root[key] !== undefined) (out as Record<string, unknown>)[key] = root[key];
  }
  for (const key of ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels'] as const) {
    if (root[key] === undefined && leaf[key] === undefined) continue;
    (out as Record<string, unknown>)[key] = { ...root[key], ...leaf[key] };
  }
  if (!out.port && root.port) out.port = root.port;
  if (!out.gateways?.length && root.gateways !== undefined) out.gateways = root.gateways;
  return out;
}

/** Istio's hasConflict: whether a delegate match cannot be a subset of a root match. */
function hasConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const key of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflict(root[key], leaf[key])) return true;
  }
  for (const key of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [name, value] of Object.entries(leaf[key] ?? {})) {
      if (stringMatchConflict(root[key]?.[name], value)) return true;
    }
  }
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return true;
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  if (root.sourceNamespace && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) {
    if (root.sourceLabels?.[k] !== undefined && root.sourceLabels[k] !== v) return true;
  }
  const rootGateways = root.gateways ?? [];
  const leafGateways = leaf.gateways ?? [];
  if (rootGateways.length > 0 && leafGateways.length > 0) {
    return leafGateways.length > rootGateways.length || leafGateways.some((g) => !rootGateways.includes(g));
  }
  return false;
}

/** Istio's stringMatchConflict, where an empty string counts as unset. */
function stringMatchConflict(root: HttpStringMatch | undefined, leaf: HttpStringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  if (root.regex && (leaf.regex || leaf.prefix || leaf.exact)) return true;
  if (leaf.regex && (root.regex || root.prefix || root.exact)) return true;
  if (root.exact) return Boolean(leaf.prefix) || leaf.exact !== root.exact;
  if (root.prefix) {
    if (leaf.prefix) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}
