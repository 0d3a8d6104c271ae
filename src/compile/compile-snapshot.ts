// The compiler: a pure function from the mesh's config (Services, WorkloadEntries, Sidecars,
// PeerAuthentications, MeshConfig) and one workload to the snapshot its proxy runs. The control
// plane calls it once per proxy shape; `alder proxy --config DIR` calls it locally.

import { createHash } from 'node:crypto';
import {
  AlderError,
  ErrorCode,
  protocolOfPort,
  type Resource,
  type ServicePort,
  type ServiceSpec,
  type WorkloadEntrySpec,
} from '../config/index.ts';
import type {
  Cluster,
  InboundListener,
  Listener,
  MeshSettings,
  ProxyIdentity,
  ProxyTls,
  RouteTable,
  Snapshot,
  TrafficKind,
  VirtualHost,
  WireProtocol,
} from '../wire/index.ts';
import { WIRE_VERSION } from '../wire/index.ts';
import { type IndexedConfig, indexConfig, selects, serviceFqdn } from './config-index.ts';
import { egressListeners, sidecarFor } from './egress.ts';
import { resolveMtlsMode } from './peer-authentication.ts';

export interface CompileOptions {
  /** The WorkloadEntry whose proxy this snapshot is for. */
  workload: { namespace: string; name: string };
  tls?: ProxyTls | undefined;
  /** Where the HTTP forward proxy (HTTP_PROXY) listens; null for none. Default 127.0.0.1:15001. */
  outboundProxy?: { address: string; port: number } | null;
}

export const OUTBOUND_ROUTE_TABLE = 'outbound';
const DEFAULT_OUTBOUND_PROXY = { address: '127.0.0.1', port: 15001 };

export function compileSnapshot(resources: readonly Resource[], options: CompileOptions): Snapshot {
  const config = indexConfig(resources);
  const { namespace, name } = options.workload;
  const entry = config.workloadEntries.find(
    (w) => w.metadata.namespace === namespace && w.metadata.name === name,
  );
  if (entry === undefined || entry.spec?.address === undefined) {
    throw new AlderError(
      ErrorCode.CompileFailed,
      `no WorkloadEntry ${namespace}/${name} with an address in the config`,
      {
        hint: 'add a WorkloadEntry for this workload (its address is where its proxy listens), or pass the right --workload NAMESPACE/NAME',
      },
    );
  }
  const proxy = identityOf(entry, config);
  const mesh = meshSettings(config);
  const clusters = outboundClusters(config);
  const outbound: RouteTable = {
    name: OUTBOUND_ROUTE_TABLE,
    virtualHosts: virtualHosts(config, namespace, clusters),
  };
  const listeners: Listener[] = [...inboundListeners(entry, proxy, config)];
  const outboundProxy = options.outboundProxy === undefined ? DEFAULT_OUTBOUND_PROXY : options.outboundProxy;
  if (outboundProxy !== null) {
    listeners.push({
      kind: 'outbound-proxy',
      name: 'outbound-proxy',
      ...outboundProxy,
      routeTable: OUTBOUND_ROUTE_TABLE,
    });
  }
  const egress = egressListeners(sidecarFor(config.sidecars, namespace, proxy.labels), namespace, outbound);
  listeners.push(...egress.listeners);
  const body = {
    wireVersion: WIRE_VERSION as typeof WIRE_VERSION,
    proxy,
    mesh,
    listeners,
    clusters,
    routeTables: [outbound, ...egress.routeTables],
    tls: options.tls,
  };
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return { ...body, version };
}

function identityOf(entry: Resource<WorkloadEntrySpec>, config: IndexedConfig): ProxyIdentity {
  const namespace = entry.metadata.namespace ?? 'default';
  const serviceAccount = entry.spec?.serviceAccount || 'default';
  return {
    namespace,
    workload: entry.metadata.name,
    serviceAccount,
    spiffeId: spiffeIdOf(config.mesh.trustDomain, namespace, serviceAccount),
    address: entry.spec?.address ?? '',
    labels: { ...(entry.spec?.labels ?? {}) },
  };
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

function meshSettings(config: IndexedConfig): MeshSettings {
  const m = config.mesh;
  return {
    trustDomain: m.trustDomain,
    outboundTrafficPolicy: m.outboundTrafficPolicy.mode,
    protocolDetection: {
      enabled: m.protocolDetection.enabled,
      timeoutMs: durationMs(m.protocolDetection.timeout),
    },
    connectTimeoutMs: durationMs(m.connectTimeout),
    accessLog: { enabled: m.accessLogging.enabled, encoding: m.accessLogging.encoding },
  };
}

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (m === null) return 1000;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.max(1, Math.round(Number(m[1]) * unit));
}

/** The protocol a port speaks and whether the proxy parses it (http), moves bytes (tcp) or sniffs. */
function protocolAndTraffic(
  port: ServicePort,
  config: IndexedConfig,
): { protocol: WireProtocol; traffic: TrafficKind } {
  const p = protocolOfPort(port);
  if (p === 'unknown') {
    return { protocol: 'TCP', traffic: config.mesh.protocolDetection.enabled ? 'detect' : 'tcp' };
  }
  const isHttp = p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web';
  return { protocol: p as WireProtocol, traffic: isHttp ? 'http' : 'tcp' };
}

/** The port a workload serves a service port on: its own `ports` entry, else targetPort, else port. */
function endpointPort(port: ServicePort, entry: Resource<WorkloadEntrySpec>): number | undefined {
  const own = port.name === undefined ? undefined : entry.spec?.ports?.[port.name];
  if (own !== undefined) return own;
  const target = port.targetPort;
  if (typeof target === 'number' && target > 0) return target;
  if (typeof target === 'string' && target !== '') return entry.spec?.ports?.[target];
  return port.port;
}

function inboundListeners(
  entry: Resource<WorkloadEntrySpec>,
  proxy: ProxyIdentity,
  config: IndexedConfig,
): InboundListener[] {
  const byPort = new Map<number, InboundListener>();
  const sidecar = sidecarFor(config.sidecars, proxy.namespace, proxy.labels);
  for (const svc of config.services) {
    if (svc.metadata.namespace !== proxy.namespace || !selects(svc.spec?.selector, proxy.labels)) continue;
    for (const port of svc.spec?.ports ?? []) {
      const at = endpointPort(port, entry);
      if (at === undefined || port.protocol === 'UDP') continue;
      const fqdn = serviceFqdn(svc.metadata.name, proxy.namespace);
      const existing = byPort.get(at);
      if (existing !== undefined) {
        existing.services.push(fqdn);
        continue;
      }
      const ingress = sidecar?.spec?.ingress?.find((i) => i.port?.number === at);
      const app = parseEndpoint(ingress?.defaultEndpoint) ?? { address: '127.0.0.1', port: at };
      byPort.set(at, {
        kind: 'inbound',
        name: `inbound|${at}`,
        address: proxy.address,
        port: at,
        ...protocolAndTraffic(port, config),
        mtlsMode: resolveMtlsMode(config.peerAuthentications, {
          namespace: proxy.namespace,
          labels: proxy.labels,
          port: at,
          rootNamespace: config.mesh.rootNamespace,
          meshDefault: config.mesh.mtls.mode,
        }),
        app,
        services: [fqdn],
      });
    }
  }
  return [...byPort.values()];
}

/** `127.0.0.1:8080` → address and port; unix sockets are not served yet. */
function parseEndpoint(text: string | undefined): { address: string; port: number } | undefined {
  const m = text === undefined ? null : /^(.*):(\d+)$/.exec(text);
  if (m === null || (m[1] as string).startsWith('unix')) return undefined;
  return { address: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function clusterName(port: number, fqdn: string): string {
  return `outbound|${port}||${fqdn}`;
}

function outboundClusters(config: IndexedConfig): Cluster[] {
  const clusters: Cluster[] = [];
  for (const svc of config.services) {
    const namespace = svc.metadata.namespace ?? 'default';
    const fqdn = serviceFqdn(svc.metadata.name, namespace);
    const members = config.workloadEntries.filter(
      (w) =>
        w.metadata.namespace === namespace &&
        w.spec?.address !== undefined &&
        selects(svc.spec?.selector, w.spec?.labels),
    );
    for (const port of svc.spec?.ports ?? []) {
      if (port.protocol === 'UDP') continue;
      clusters.push({
        name: clusterName(port.port, fqdn),
        service: fqdn,
        port: port.port,
        ...protocolAndTraffic(port, config),
        lb: 'ROUND_ROBIN',
        connectTimeoutMs: durationMs(config.mesh.connectTimeout),
        tlsMode: destinationTlsMode(svc, members, port, config),
        endpoints: members.flatMap((w) => {
          const at = endpointPort(port, w);
          if (at === undefined) return [];
          const sa = w.spec?.serviceAccount || 'default';
          return [
            {
              address: w.spec?.address ?? '',
              port: at,
              spiffeId: spiffeIdOf(config.mesh.trustDomain, namespace, sa),
              labels: { ...(w.spec?.labels ?? {}) },
              workload: w.metadata.name,
            },
          ];
        }),
      });
    }
  }
  return clusters;
}

/** Auto mTLS, as Istio does it: mutual TLS unless every destination workload has mTLS disabled. */
function destinationTlsMode(
  svc: Resource<ServiceSpec>,
  members: readonly Resource<WorkloadEntrySpec>[],
  port: ServicePort,
  config: IndexedConfig,
): Cluster['tlsMode'] {
  if (members.length === 0) return 'ISTIO_MUTUAL';
  const disabled = members.every(
    (w) =>
      resolveMtlsMode(config.peerAuthentications, {
        namespace: svc.metadata.namespace ?? 'default',
        labels: w.spec?.labels ?? {},
        port: endpointPort(port, w) ?? port.port,
        rootNamespace: config.mesh.rootNamespace,
        meshDefault: config.mesh.mtls.mode,
      }) === 'DISABLE',
  );
  return disabled ? 'DISABLE' : 'ISTIO_MUTUAL';
}

/** Every name a client may use for a service port: FQDN, `name.ns.svc`, `name.ns`, and `name` from its own namespace. */
function virtualHosts(
  config: IndexedConfig,
  proxyNamespace: string,
  clusters: readonly Cluster[],
): VirtualHost[] {
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const hosts: VirtualHost[] = [];
  for (const svc of config.services) {
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const fqdn = serviceFqdn(name, namespace);
    for (const port of svc.spec?.ports ?? []) {
      const cluster = byName.get(clusterName(port.port, fqdn));
      if (cluster === undefined) continue;
      const names = [fqdn, `${name}.${namespace}.svc`, `${name}.${namespace}`];
      if (namespace === proxyNamespace) names.push(name);
      const domains = names.flatMap((n) => (port.port === 80 ? [`${n}:80`, n] : [`${n}:${port.port}`]));
      hosts.push({
        name: `${fqdn}:${port.port}`,
        domains,
        traffic: cluster.traffic,
        routes: [{ name: 'default', match: { prefix: '/' }, cluster: cluster.name, timeoutMs: undefined }],
      });
    }
  }
  return hosts;
}
