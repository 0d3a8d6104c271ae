// Outbound clusters: one per service port (`outbound|9080||reviews.default.svc.cluster.local`) and
// one per port and DestinationRule subset (`outbound|9080|v1|reviews…`, endpoints filtered by the
// subset's labels), each with the policy its DestinationRule gives it for this client.

import type { ClientTLSSettings, MeshConfig } from '../config/index.ts';
import type { Cluster, Endpoint, TlsOrigination, TrafficKind, WireProtocol } from '../wire/index.ts';
import { type IndexedConfig, isLabelSubset } from './config-index.ts';
import { connectionPoolOf, UNLIMITED } from './connection-pool.ts';
import {
  type AppliedDestinationRule,
  type AppliedSubset,
  applicableRules,
  destinationRuleFor,
} from './destination-rules.ts';
import { effectivePolicy } from './effective-policy.ts';
import { loadBalancerOf } from './load-balancer.ts';
import { outlierDetectionOf } from './outlier-detection.ts';
import { resolveMtlsMode } from './peer-authentication.ts';
import type { MeshPort, MeshService, MeshWorkload } from './registry.ts';
import { workloadPort } from './registry.ts';
import { spiffeIdOf } from './spiffe-id.ts';

export interface ClusterContext {
  config: IndexedConfig;
  client: { namespace: string; labels: Readonly<Record<string, string>> };
  meshConnectTimeoutMs: number;
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local`; subset '' for the whole service. */
export function clusterName(port: number, subset: string, hostname: string): string {
  return `outbound|${port}|${subset}|${hostname}`;
}

export function buildClusters(registry: readonly MeshService[], ctx: ClusterContext): Cluster[] {
  const clusters: Cluster[] = [];
  const rules = applicableRules(ctx.config.destinationRules, ctx.client);
  for (const svc of registry) {
    const rule = destinationRuleFor(rules, {
      hostname: svc.hostname,
      serviceNamespace: svc.namespace,
      client: ctx.client,
      rootNamespace: ctx.config.mesh.rootNamespace,
    });
    for (const port of svc.ports) {
      clusters.push(clusterFor(svc, port, rule, undefined, ctx));
      for (const subset of rule?.subsets ?? []) clusters.push(clusterFor(svc, port, rule, subset, ctx));
    }
  }
  return clusters;
}

function clusterFor(
  svc: MeshService,
  port: MeshPort,
  rule: AppliedDestinationRule | undefined,
  subset: AppliedSubset | undefined,
  ctx: ClusterContext,
): Cluster {
  const { policy, origin } = effectivePolicy(rule, port.number, subset);
  const members =
    subset === undefined
      ? svc.workloads
      : svc.workloads.filter((w) => isLabelSubset(subset.labels, w.labels));
  const outlierDetection = outlierDetectionOf(policy.outlierDetection);
  const lb = loadBalancerOf(policy.loadBalancer, {
    hasOutlierDetection: outlierDetection !== undefined,
    isPassthrough: svc.resolution === 'NONE',
  });
  const pool = connectionPoolOf(policy.connectionPool, ctx.meshConnectTimeoutMs);
  return {
    name: clusterName(port.number, subset?.name ?? '', svc.hostname),
    service: svc.hostname,
    port: port.number,
    ...(subset === undefined ? {} : { subset: subset.name }),
    protocol: port.protocol,
    traffic: port.traffic,
    lb,
    connectTimeoutMs: pool.connectTimeoutMs,
    tlsMode: tlsModeOf(policy.tls, svc, members, port, ctx.config),
    ...originationOf(policy.tls, svc.hostname),
    connectionPool: pool.connectionPool,
    ...(outlierDetection === undefined ? {} : { outlierDetection }),
    ...(origin === undefined ? {} : { policyOrigin: origin }),
    // Istio wipes the endpoints of a PASSTHROUGH cluster: the original destination is used instead.
    endpoints: lb.kind === 'PASSTHROUGH' ? [] : endpointsOf(svc, port, members, ctx.config.mesh),
  };
}

function endpointsOf(
  svc: MeshService,
  port: MeshPort,
  members: readonly MeshWorkload[],
  mesh: MeshConfig,
): Endpoint[] {
  // HTTP/2 and gRPC keep their own multiplexed sessions to the port (docs/transport.md).
  const isTunnelled = mesh.hbone.enabled && port.protocol !== 'HTTP2' && port.protocol !== 'GRPC';
  return members.flatMap((w) => {
    const at = workloadPort(port, w);
    if (at === undefined) return [];
    const hasIdentity = !svc.isExternal && w.namespace !== '';
    const tunnelPort = isTunnelled && hasIdentity && w.workload !== '' ? tunnelPortOf(w, mesh) : undefined;
    return [
      {
        address: w.address,
        port: at,
        spiffeId: hasIdentity ? spiffeIdOf(mesh.trustDomain, w.namespace, w.serviceAccount) : '',
        labels: { ...w.labels },
        workload: w.workload,
        locality: w.locality,
        weight: w.weight,
        ...(tunnelPort === undefined ? {} : { tunnelPort }),
      },
    ];
  });
}

/** A workload's HBONE port: its WorkloadEntry's `ports.hbone` (workloads sharing an address), else the mesh's. */
export function tunnelPortOf(w: { ports: Readonly<Record<string, number>> }, mesh: MeshConfig): number {
  return w.ports.hbone ?? mesh.hbone.port;
}

/**
 * SIMPLE and MUTUAL: the TLS the proxy originates. The SNI is `sni`, else the service's host name;
 * files are read by the proxy on its host. credentialName and caCrl are not supported: the cluster
 * says so, and the proxy refuses its requests rather than send them with less checking than asked.
 */
function originationOf(tls: ClientTLSSettings | undefined, host: string): { originate?: TlsOrigination } {
  if (tls?.mode !== 'SIMPLE' && tls?.mode !== 'MUTUAL') return {};
  const set = (v: string | undefined): v is string => v !== undefined && v !== '';
  const unsupported = set(tls.credentialName)
    ? `credentialName ${tls.credentialName} (certificates from a secret) is not supported yet`
    : set(tls.caCrl)
      ? 'caCrl (a certificate revocation list) is not supported yet'
      : undefined;
  return {
    originate: {
      sni: set(tls.sni) ? tls.sni : host,
      ...(set(tls.caCertificates) ? { caFile: tls.caCertificates } : {}),
      ...(tls.mode === 'MUTUAL' && set(tls.clientCertificate) ? { certFile: tls.clientCertificate } : {}),
      ...(tls.mode === 'MUTUAL' && set(tls.privateKey) ? { keyFile: tls.privateKey } : {}),
      ...((tls.subjectAltNames?.length ?? 0) > 0 ? { subjectAltNames: tls.subjectAltNames } : {}),
      ...(tls.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
      ...(unsupported === undefined ? {} : { unsupported }),
    },
  };
}

/**
 * DestinationRule tls.mode when set (SIMPLE and MUTUAL: the proxy originates TLS, originationOf); else auto mTLS,
 * as Istio does it: plaintext to hosts outside the mesh, mutual TLS unless every destination
 * workload has mTLS disabled.
 */
function tlsModeOf(
  tls: ClientTLSSettings | undefined,
  svc: MeshService,
  members: readonly MeshWorkload[],
  port: MeshPort,
  config: IndexedConfig,
): Cluster['tlsMode'] {
  if (tls?.mode === 'ISTIO_MUTUAL' || tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') return tls.mode;
  if (tls?.mode !== undefined) return 'DISABLE';
  if (svc.isExternal || !config.mesh.enableAutoMtls) return 'DISABLE';
  if (members.length === 0) return 'ISTIO_MUTUAL';
  // DNS names of a ServiceEntry without endpoints run no proxy that Alder knows of.
  const inMesh = members.filter((w) => w.namespace !== '');
  if (inMesh.length === 0) return 'DISABLE';
  const disabled = inMesh.every(
    (w) =>
      resolveMtlsMode(config.peerAuthentications, {
        namespace: w.namespace,
        labels: w.labels,
        port: workloadPort(port, w) ?? port.number,
        rootNamespace: config.mesh.rootNamespace,
        meshDefault: config.mesh.mtls.mode,
      }) === 'DISABLE',
  );
  return disabled ? 'DISABLE' : 'ISTIO_MUTUAL';
}

/**
 * A cluster a route names but nothing defines (an unknown host, port or subset): kept, empty, so the
 * snapshot stays whole and such requests fail alone with 503, as Envoy's missing cluster does in Istio.
 */
export function emptyCluster(
  name: string,
  protocol: WireProtocol,
  traffic: TrafficKind,
  meshConnectTimeoutMs: number,
): Cluster {
  const [, port = '0', subset = '', service = ''] = name.split('|');
  return {
    name,
    service,
    port: Number(port),
    ...(subset === '' ? {} : { subset }),
    missing:
      subset === ''
        ? `no service ${service} with port ${port} in the registry (a Service or ServiceEntry)`
        : `subset ${JSON.stringify(subset)} of ${service} is not defined by any DestinationRule for it`,
    protocol,
    traffic,
    lb: { kind: 'ROUND_ROBIN' },
    connectTimeoutMs: meshConnectTimeoutMs,
    tlsMode: 'DISABLE',
    connectionPool: {
      maxConnections: UNLIMITED,
      maxPendingRequests: UNLIMITED,
      maxRequests: UNLIMITED,
      maxRequestsPerConnection: 0,
      maxRetries: UNLIMITED,
    },
    endpoints: [],
  };
}
