// A snapshot as typed, named, versioned resources, the unit the control plane's stream moves (as
// xDS moves listeners, routes, virtual hosts, clusters and endpoints): a change to one service's
// endpoints sends that cluster's endpoints and nothing else, a VirtualService edit the virtual hosts
// it changed. The proxy assembles the resources back into a snapshot.

import { createHash } from 'node:crypto';
import type { AuthzPolicy } from './authorization.ts';
import type { Cluster } from './clusters.ts';
import { type EndpointRows, fromEndpointRows, toEndpointRows } from './endpoint-rows.ts';
import type { ProbePlan } from './probe.ts';
import type { JwtRule } from './request-authentication.ts';
import { joinRouteTable, type RouteTableResource, splitRouteTable } from './route-resources.ts';
import type { RouteTable, VirtualHost } from './routes.ts';
import {
  type Listener,
  type MeshSettings,
  type ProxyIdentity,
  type ProxyTls,
  type Snapshot,
  WIRE_VERSION,
} from './snapshot.ts';

/**
 * In the order a proxy applies them: the identity and the mesh's trust bundle (as SDS's ROOTCA),
 * then what listeners and routes refer to.
 */
export const RESOURCE_TYPES = [
  'proxy',
  'bundle',
  'cluster',
  'endpoints',
  'vhost',
  'route',
  'listener',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The one `proxy` resource: who the proxy is and the mesh-wide settings. */
export interface ProxyResource {
  proxy: ProxyIdentity;
  mesh: MeshSettings;
  /** The AuthorizationPolicies in force on this workload (absent: none). */
  authorization?: AuthzPolicy[];
  /** The RequestAuthentication rules in force on this workload (absent: none). */
  requestAuthentication?: JwtRule[];
  /** The readiness probe the proxy runs against its app (its WorkloadGroup's), if any. */
  probe?: ProbePlan;
}

/** The one `bundle` resource: every root the mesh trusts now, PEM (two during a root rotation). */
export interface BundleResource {
  pem: string;
}

export interface ResourceBodies {
  proxy: ProxyResource;
  bundle: BundleResource;
  /** A cluster without its endpoints (they are the `endpoints` resource of the same name). */
  cluster: Cluster;
  /** A cluster's endpoints, shared fields written once (endpoint-rows.ts). */
  endpoints: EndpointRows;
  /** One virtual host of one route table, named `table/host:port` (route-resources.ts). */
  vhost: VirtualHost;
  /** A route table naming its `vhost` resources in order. */
  route: RouteTableResource;
  listener: Listener;
}

export interface WireResource<T extends ResourceType = ResourceType> {
  name: string;
  /** A digest of the body: equal content, equal version. */
  version: string;
  body: ResourceBodies[T];
}

/** Every resource of a proxy by type and name. */
export type ResourceSet = { [T in ResourceType]: Map<string, WireResource<T>> };

export function emptyResourceSet(): ResourceSet {
  return {
    proxy: new Map(),
    bundle: new Map(),
    cluster: new Map(),
    endpoints: new Map(),
    vhost: new Map(),
    route: new Map(),
    listener: new Map(),
  };
}

export function resourceVersion(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 16);
}

export function wireResource<T extends ResourceType>(name: string, body: ResourceBodies[T]): WireResource<T> {
  return { name, version: resourceVersion(body), body };
}

/** Splits the parts of a snapshot into resources, each versioned by its content. */
export function resourcesOf(parts: {
  proxy?: ProxyIdentity;
  mesh?: MeshSettings;
  probe?: ProbePlan;
  authorization?: AuthzPolicy[];
  requestAuthentication?: JwtRule[];
  listeners: readonly Listener[];
  clusters: readonly Cluster[];
  routeTables: readonly RouteTable[];
}): ResourceSet {
  const set = emptyResourceSet();
  if (parts.proxy !== undefined && parts.mesh !== undefined) {
    const body: ProxyResource = { proxy: parts.proxy, mesh: parts.mesh };
    if (parts.probe !== undefined) body.probe = parts.probe;
    if (parts.authorization !== undefined && parts.authorization.length > 0)
      body.authorization = parts.authorization;
    if (parts.requestAuthentication !== undefined && parts.requestAuthentication.length > 0)
      body.requestAuthentication = parts.requestAuthentication;
    set.proxy.set('proxy', wireResource<'proxy'>('proxy', body));
  }
  for (const c of parts.clusters) {
    const { endpoints, ...rest } = c;
    set.cluster.set(c.name, wireResource<'cluster'>(c.name, { ...rest, endpoints: [] }));
    set.endpoints.set(c.name, wireResource<'endpoints'>(c.name, toEndpointRows(endpoints)));
  }
  for (const t of parts.routeTables) {
    const { table, hosts } = splitRouteTable(t);
    for (const [name, vh] of hosts) set.vhost.set(name, wireResource<'vhost'>(name, vh));
    set.route.set(t.name, wireResource<'route'>(t.name, table));
  }
  for (const l of parts.listeners) set.listener.set(l.name, wireResource<'listener'>(l.name, l));
  return set;
}

/**
 * The snapshot the resources make, with the proxy's own certificates. Throws when the `proxy`
 * resource is missing; references are checked by decodeSnapshot, as for any snapshot.
 */
export function assembleSnapshot(set: ResourceSet, tls: ProxyTls | undefined, tlsVersion = ''): Snapshot {
  const own = set.proxy.get('proxy');
  if (own === undefined) throw new Error('the control plane has sent no proxy resource yet');
  const clusters = [...set.cluster.values()].map((c) => joinCluster(c, set.endpoints.get(c.name)));
  const virtualHostOf = (name: string) => set.vhost.get(name)?.body;
  const digest = createHash('sha256');
  for (const type of RESOURCE_TYPES) {
    for (const r of set[type].values()) digest.update(`${type}/${r.name}@${r.version}\n`);
  }
  digest.update(tlsVersion);
  return {
    wireVersion: WIRE_VERSION,
    version: digest.digest('hex').slice(0, 16),
    proxy: own.body.proxy,
    mesh: own.body.mesh,
    listeners: [...set.listener.values()].map((l) => onAppAddress(l.body, own.body.proxy.appAddress)),
    clusters,
    routeTables: [...set.route.values()].map((r): RouteTable => joinRouteTable(r.body, virtualHostOf)),
    ...(own.body.authorization === undefined ? {} : { authorization: own.body.authorization }),
    ...(own.body.requestAuthentication === undefined
      ? {}
      : { requestAuthentication: own.body.requestAuthentication }),
    tls,
  };
}

/**
 * Each cluster resource joined with its endpoints, kept while the cluster resource is held: a
 * snapshot whose cluster and endpoints did not change takes the same Cluster as the one before, and
 * workloads of one node proxy, which hold one object per resource version, take the same one too.
 */
const joinedClusters = new WeakMap<
  WireResource<'cluster'>,
  { rows: WireResource<'endpoints'> | undefined; cluster: Cluster }
>();

function joinCluster(c: WireResource<'cluster'>, rows: WireResource<'endpoints'> | undefined): Cluster {
  const joined = joinedClusters.get(c);
  if (joined !== undefined && joined.rows === rows) return joined.cluster;
  const cluster = { ...c.body, endpoints: rows === undefined ? [] : fromEndpointRows(rows.body, c.name) };
  joinedClusters.set(c, { rows, cluster });
  return cluster;
}

/**
 * A Sidecar egress port is where the app reaches an upstream: 127.0.0.1 beside an app of its own
 * host, and the app's own address for a workload on a shared host (`alder run`), so that two
 * workloads of one shape on one host do not both take 127.0.0.1:PORT.
 */
function onAppAddress(l: Listener, appAddress: string | undefined): Listener {
  return appAddress !== undefined && l.kind === 'outbound-port' && l.address === '127.0.0.1'
    ? { ...l, address: appAddress }
    : l;
}

/** Names → versions per type: what a proxy holds, sent when it (re)connects so only changes come. */
export type KnownVersions = Partial<Record<ResourceType, Record<string, string>>>;

export function knownVersions(set: ResourceSet): KnownVersions {
  const out: KnownVersions = {};
  for (const type of RESOURCE_TYPES) {
    const m: Record<string, string> = {};
    for (const r of set[type].values()) m[r.name] = r.version;
    out[type] = m;
  }
  return out;
}

/** One type's change: resources added or changed, and names removed. */
export interface TypeDelta<T extends ResourceType = ResourceType> {
  upsert: WireResource<T>[];
  remove: string[];
}

export type ResourceDelta = { [T in ResourceType]?: TypeDelta<T> };

/** What turns `from` (names → versions) into `to`; types without change are absent. */
export function diffResources(from: KnownVersions, to: ResourceSet): ResourceDelta {
  const delta: ResourceDelta = {};
  for (const type of RESOURCE_TYPES) {
    const had = from[type] ?? {};
    const now = to[type];
    const upsert: WireResource[] = [];
    const remove: string[] = [];
    for (const r of now.values()) if (had[r.name] !== r.version) upsert.push(r);
    for (const name of Object.keys(had)) if (!now.has(name)) remove.push(name);
    if (upsert.length > 0 || remove.length > 0) {
      (delta as Record<string, TypeDelta>)[type] = { upsert, remove };
    }
  }
  return delta;
}

/** Applies a delta to a copy of the set (the proxy keeps the old one until the new one is accepted). */
export function applyDelta(set: ResourceSet, delta: ResourceDelta): ResourceSet {
  const next = emptyResourceSet();
  for (const type of RESOURCE_TYPES) {
    const m = new Map(set[type] as Map<string, WireResource>);
    const d = delta[type] as TypeDelta | undefined;
    if (d !== undefined) {
      for (const name of d.remove) m.delete(name);
      for (const r of d.upsert) m.set(r.name, r);
    }
    (next as Record<ResourceType, Map<string, WireResource>>)[type] = m;
  }
  return next;
}
