// The VirtualServices a sidecar applies, as Istio's pilot selects them: root VirtualServices (with
// hosts) bound to `mesh` (no gateways, or `mesh` listed), visible to the proxy's namespace through
// exportTo, with short names resolved in their own namespace and delegates merged in. Ordered as
// SelectVirtualServices does (private, then exported to this namespace, then public; oldest first in
// each), so that when several claim one host for HTTP the first most specific one wins: Istio does
// not merge VirtualServices for sidecars.

import type { HTTPRoute, Resource, VirtualServiceSpec } from '../config/index.ts';
import type { RouteOrigin } from '../wire/index.ts';
import { namespaceOf, refName } from './config-index.ts';
import { expandDelegates } from './delegates.ts';
import { hostsMatch, isExportedTo, mostSpecificMatch, resolveShortname } from './hosts.ts';
import { isBoundToMesh } from './mesh-gateway.ts';
import { resolveSpecHosts } from './resolve-hosts.ts';

/** An HTTP route ready to translate: delegates merged, destination hosts fully qualified. */
export interface SourcedHttpRoute {
  route: HTTPRoute;
  origin: RouteOrigin;
  /** `route.name` (or the merged delegate name), else `http[i]` of the VirtualService that wrote it. */
  name: string;
}

/** A VirtualService as a sidecar applies it. */
export interface MeshVirtualService {
  ref: string;
  /** Lower-case, fully qualified. */
  hosts: string[];
  http: SourcedHttpRoute[];
  spec: VirtualServiceSpec;
}

export function meshVirtualServices(
  all: readonly Resource<VirtualServiceSpec>[],
  clientNamespace: string,
): MeshVirtualService[] {
  const roots = all.filter(
    (vs) =>
      (vs.spec?.hosts ?? []).length > 0 && isBoundToMesh(vs.spec?.gateways) && isVisible(vs, clientNamespace),
  );
  const rank = (vs: Resource<VirtualServiceSpec>) => {
    const exportTo = vs.spec?.exportTo ?? [];
    if (exportTo.length === 0 || exportTo.includes('*')) return 2;
    return namespaceOf(vs) === clientNamespace ? 0 : 1;
  };
  const ordered = [0, 1, 2].flatMap((r) => roots.filter((vs) => rank(vs) === r));
  return ordered.map((vs) => toMeshVirtualService(vs, all));
}

function toMeshVirtualService(
  vs: Resource<VirtualServiceSpec>,
  all: readonly Resource<VirtualServiceSpec>[],
): MeshVirtualService {
  const namespace = namespaceOf(vs);
  const spec = resolveSpecHosts(vs.spec as VirtualServiceSpec, namespace);
  return {
    ref: refName(vs),
    hosts: (vs.spec?.hosts ?? []).map((h) => resolveShortname(h, namespace).toLowerCase()),
    http: expandDelegates(vs, spec, all),
    spec,
  };
}

function isVisible(vs: Resource<VirtualServiceSpec>, clientNamespace: string): boolean {
  return isExportedTo(vs.spec?.exportTo, namespaceOf(vs), clientNamespace);
}

/**
 * The VirtualService whose HTTP routes apply to `hostname`: Istio's mostSpecificWildcardVsIndex
 * (an exact host before the most specific wildcard; the first in order on a tie).
 */
export function virtualServiceFor(
  hostname: string,
  services: readonly MeshVirtualService[],
): MeshVirtualService | undefined {
  const byHost = services.flatMap((vs) => vs.hosts.map((host) => ({ host, vs })));
  return mostSpecificMatch(hostname.toLowerCase(), byHost, (e) => e.host)?.vs;
}

/** Every VirtualService with a host matching `hostname`, in order: TCP and TLS routes of all apply. */
export function virtualServicesMatching(
  hostname: string,
  services: readonly MeshVirtualService[],
): MeshVirtualService[] {
  const lower = hostname.toLowerCase();
  return services.filter((vs) => vs.hosts.some((h) => hostsMatch(h, lower)));
}
