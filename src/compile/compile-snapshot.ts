// The compiler: a pure function from the mesh's config (Services, ServiceEntries, WorkloadEntries,
// VirtualServices, DestinationRules, Sidecars, PeerAuthentications, MeshConfig) and one workload to
// the snapshot its proxy runs. The control plane calls it once per proxy shape; `alder proxy
// --config DIR` calls it locally. Each concern lives in a module of its own; this one wires them.

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { AlderError, ErrorCode, type Resource, type WorkloadEntrySpec } from '../config/index.ts';
import type {
  AuthzPolicy,
  Cluster,
  JwtRule,
  Listener,
  MeshSettings,
  ProxyIdentity,
  ProxyTls,
  RouteTable,
  Snapshot,
  VirtualHost,
} from '../wire/index.ts';
import { WIRE_VERSION } from '../wire/index.ts';
import { authorizationFor } from './authorization.ts';
import { APP_ADDRESS_ANNOTATION } from './auto-register.ts';
import { buildClusters, emptyCluster, tunnelPortOf } from './clusters.ts';
import { type IndexedConfig, indexConfig, namespaceOf } from './config-index.ts';
import { msOf } from './durations.ts';
import { type EgressService, egressListeners, scopeOutbound, sidecarFor } from './egress.ts';
import { inboundListeners } from './inbound-listeners.ts';
import { buildRegistry } from './registry.ts';
import { requestAuthenticationFor } from './request-authentication.ts';
import { spiffeIdOf } from './spiffe-id.ts';
import { buildVirtualHosts } from './virtual-hosts.ts';
import { meshVirtualServices } from './virtual-services.ts';

export interface CompileOptions {
  /** The WorkloadEntry whose proxy this snapshot is for. */
  workload: { namespace: string; name: string };
  tls?: ProxyTls | undefined;
  /** Where the HTTP forward proxy (HTTP_PROXY) listens; null for none. Default 127.0.0.1:15001. */
  outboundProxy?: { address: string; port: number } | null;
}

export const OUTBOUND_ROUTE_TABLE = 'outbound';
export const DEFAULT_OUTBOUND_PROXY = { address: '127.0.0.1', port: 15001 };

export function compileSnapshot(resources: readonly Resource[], options: CompileOptions): Snapshot {
  const config = indexConfig(resources);
  const entry = findWorkloadEntry(config, options.workload);
  const outboundProxy = options.outboundProxy === undefined ? DEFAULT_OUTBOUND_PROXY : options.outboundProxy;
  const own = compileWorkloadPart(config, entry, outboundProxy);
  const shared = compileSharedPart(config, { namespace: own.proxy.namespace, labels: own.proxy.labels });
  const body = {
    wireVersion: WIRE_VERSION as typeof WIRE_VERSION,
    proxy: own.proxy,
    mesh: shared.mesh,
    listeners: [...own.listeners, ...shared.listeners],
    clusters: shared.clusters,
    routeTables: shared.routeTables,
    ...(shared.authorization.length === 0 ? {} : { authorization: shared.authorization }),
    ...(shared.requestAuthentication.length === 0
      ? {}
      : { requestAuthentication: shared.requestAuthentication }),
    tls: options.tls,
  };
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return { ...body, version };
}

/** The WorkloadEntry a proxy serves; throws ALDER_COMPILE_FAILED naming it when it is missing. */
export function findWorkloadEntry(
  config: IndexedConfig,
  workload: { namespace: string; name: string },
): Resource<WorkloadEntrySpec> {
  const { namespace, name } = workload;
  const entry = config.workloadEntries.find((w) => namespaceOf(w) === namespace && w.metadata.name === name);
  if (entry === undefined || entry.spec?.address === undefined) {
    throw new AlderError(
      ErrorCode.CompileFailed,
      `no WorkloadEntry ${namespace}/${name} with an address in the config`,
      {
        hint: 'add a WorkloadEntry for this workload (its address is where its proxy listens), or pass the right --workload NAMESPACE/NAME',
      },
    );
  }
  return entry;
}

/** What only this workload has: its identity, and the listeners bound at its address. */
export interface WorkloadPart {
  proxy: ProxyIdentity;
  listeners: Listener[];
}

export function compileWorkloadPart(
  config: IndexedConfig,
  entry: Resource<WorkloadEntrySpec>,
  outboundProxy: { address: string; port: number } | null,
): WorkloadPart {
  const proxy = identityOf(entry, config);
  const listeners: Listener[] = [...inboundListeners(entry, proxy, config)];
  if (config.mesh.hbone.enabled) {
    // Peer proxies reach this workload's ports through its tunnel port (HBONE).
    const port = tunnelPortOf({ ports: entry.spec?.ports ?? {} }, config.mesh);
    listeners.push({ kind: 'tunnel', name: `tunnel|${port}`, address: proxy.address, port });
  }
  if (outboundProxy !== null) {
    listeners.push({
      kind: 'outbound-proxy',
      name: 'outbound-proxy',
      ...outboundProxy,
      routeTable: OUTBOUND_ROUTE_TABLE,
    });
  }
  return { proxy, listeners };
}

/**
 * What every workload with the same namespace and labels shares (its shape): mesh settings, clusters,
 * route tables and the Sidecar's egress listeners. The control plane compiles it once per shape.
 */
export interface SharedPart {
  mesh: MeshSettings;
  clusters: Cluster[];
  routeTables: RouteTable[];
  listeners: Listener[];
  /** The AuthorizationPolicies in force on workloads of this shape. */
  authorization: AuthzPolicy[];
  /** The RequestAuthentication rules in force on workloads of this shape. */
  requestAuthentication: JwtRule[];
}

export function compileSharedPart(
  config: IndexedConfig,
  client: { namespace: string; labels: Record<string, string> },
): SharedPart {
  const { namespace } = client;
  const mesh = meshSettings(config);
  const registry = buildRegistry(config, namespace);
  const clusters = buildClusters(registry, { config, client, meshConnectTimeoutMs: mesh.connectTimeoutMs });
  const virtualHosts = buildVirtualHosts({
    registry,
    virtualServices: meshVirtualServices(config.virtualServices, namespace),
    proxy: client,
  });
  clusters.push(...missingClusters(virtualHosts, clusters, mesh.connectTimeoutMs));
  const outbound: RouteTable = { name: OUTBOUND_ROUTE_TABLE, virtualHosts };
  const serviceByHost = new Map<string, EgressService>(
    registry.flatMap((s) =>
      s.ports.map((p): [string, EgressService] => [
        `${s.hostname}:${p.number}`,
        { namespace: s.namespace, isTls: p.protocol === 'TLS' || p.protocol === 'HTTPS' },
      ]),
    ),
  );
  const egressContext = {
    sidecar: sidecarFor(config.sidecars, namespace, client.labels),
    namespace,
    outbound,
    serviceOf: (vh: string) => serviceByHost.get(vh),
  };
  const egress = egressListeners(egressContext);
  return {
    mesh,
    clusters,
    routeTables: [scopeOutbound(egressContext), ...egress.routeTables],
    listeners: egress.listeners,
    authorization: authorizationFor(config, client),
    requestAuthentication: requestAuthenticationFor(config, client),
  };
}

function identityOf(entry: Resource<WorkloadEntrySpec>, config: IndexedConfig): ProxyIdentity {
  const namespace = namespaceOf(entry);
  const serviceAccount = entry.spec?.serviceAccount || 'default';
  return {
    namespace,
    workload: entry.metadata.name,
    serviceAccount,
    spiffeId: spiffeIdOf(config.mesh.trustDomain, namespace, serviceAccount),
    address: entry.spec?.address ?? '',
    ...appAddressOf(entry),
    labels: { ...(entry.spec?.labels ?? {}) },
    locality: entry.spec?.locality ?? '',
  };
}

function meshSettings(config: IndexedConfig): MeshSettings {
  const m = config.mesh;
  return {
    trustDomain: m.trustDomain,
    outboundTrafficPolicy: m.outboundTrafficPolicy.mode,
    protocolDetection: {
      enabled: m.protocolDetection.enabled,
      timeoutMs: Math.max(1, msOf(m.protocolDetection.timeout) ?? 100),
    },
    connectTimeoutMs: Math.max(1, msOf(m.connectTimeout) ?? 10_000),
    accessLog: { enabled: m.accessLogging.enabled, encoding: m.accessLogging.encoding },
    http: {
      headersWithUnderscoresAction: m.http.headersWithUnderscoresAction,
      extensionMethods: [...m.http.extensionMethods],
      maxMethodBytes: m.http.maxMethodLength,
      numTrustedProxies: m.http.numTrustedProxies,
    },
    pathNormalization: m.pathNormalization.normalization,
  };
}

/** Clusters that routes, mirrors and TCP routes name but nothing defined: empty, in the order first named. */
function missingClusters(
  virtualHosts: readonly VirtualHost[],
  clusters: readonly Cluster[],
  connectTimeoutMs: number,
): Cluster[] {
  const known = new Set(clusters.map((c) => c.name));
  const out: Cluster[] = [];
  const want = (name: string, vh: VirtualHost) => {
    if (known.has(name)) return;
    known.add(name);
    const colon = vh.name.lastIndexOf(':');
    const own = clusters.find(
      (c) => c.name === `outbound|${vh.name.slice(colon + 1)}||${vh.name.slice(0, colon)}`,
    );
    const protocol = own?.protocol ?? (vh.traffic === 'http' ? 'HTTP' : 'TCP');
    out.push(emptyCluster(name, protocol, vh.traffic, connectTimeoutMs));
  };
  for (const vh of virtualHosts) {
    for (const r of vh.routes) {
      if (r.action.kind === 'forward') for (const d of r.action.destinations) want(d.cluster, vh);
      for (const m of r.mirrors ?? []) want(m.cluster, vh);
    }
    for (const t of vh.tcpRoutes) for (const d of t.destinations) want(d.cluster, vh);
  }
  return out;
}

/** The entry's app address (APP_ADDRESS_ANNOTATION), when it names an IP address. */
function appAddressOf(entry: Resource<WorkloadEntrySpec>): { appAddress?: string } {
  const at = entry.metadata.annotations?.[APP_ADDRESS_ANNOTATION];
  return at !== undefined && isIP(at) !== 0 ? { appAddress: at } : {};
}
