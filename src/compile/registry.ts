// The service registry one proxy sees: Kubernetes-style Services (endpoints from the WorkloadEntries
// they select) and ServiceEntry hosts (endpoints inline, from a workloadSelector, from DNS names, or
// none for passthrough), filtered by exportTo. Clusters and virtual hosts are built from it.

import {
  protocolOfPort,
  type Resource,
  type ServiceEntrySpec,
  type ServiceSpec,
  type WorkloadEntrySpec,
} from '../config/index.ts';
import type { TrafficKind, WireProtocol } from '../wire/index.ts';
import { type IndexedConfig, namespaceOf, selects, serviceFqdn } from './config-index.ts';
import { isExportedTo } from './hosts.ts';
import { portTraffic } from './port-traffic.ts';

export interface MeshPort {
  number: number;
  name: string;
  protocol: WireProtocol;
  traffic: TrafficKind;
  /** Where workloads serve the port when their own `ports` map says nothing: a number or a port name. */
  targetPort: number | string | undefined;
}

/** A workload behind a service: a WorkloadEntry, an inline ServiceEntry endpoint, or a DNS name. */
export interface MeshWorkload {
  address: string;
  /** Port name → the workload's own port number. */
  ports: Readonly<Record<string, number>>;
  labels: Record<string, string>;
  /** The WorkloadEntry name ('' for ServiceEntry endpoints). */
  workload: string;
  namespace: string;
  serviceAccount: string;
  locality: string;
  weight: number;
}

export interface MeshService {
  /** `reviews.default.svc.cluster.local`, or a ServiceEntry host as written (`*.example.com` too). */
  hostname: string;
  namespace: string;
  /** The Kubernetes Service name, which clients in its namespace may use alone; undefined for ServiceEntries. */
  shortName: string | undefined;
  ports: MeshPort[];
  workloads: MeshWorkload[];
  /** ServiceEntry `location: MESH_EXTERNAL`: no proxy there, so plaintext and no SPIFFE ID. */
  isExternal: boolean;
  /** NONE (and DYNAMIC_DNS): connections go where the client sent them (PASSTHROUGH, no endpoints). */
  resolution: 'STATIC' | 'DNS' | 'NONE';
}

/** Services visible from `clientNamespace`, Kubernetes Services first; the first of a hostname wins. */
export function buildRegistry(config: IndexedConfig, clientNamespace: string): MeshService[] {
  const sniffing = config.mesh.protocolDetection.enabled;
  const all = [
    ...config.services
      .filter((s) => isExportedTo(exportToAnnotation(s), namespaceOf(s), clientNamespace))
      .map((s) => fromService(s, config.workloadEntries, sniffing)),
    ...config.serviceEntries
      .filter((se) => isExportedTo(se.spec?.exportTo, namespaceOf(se), clientNamespace))
      .flatMap((se) => fromServiceEntry(se, config.workloadEntries, sniffing)),
  ];
  const byHostname = new Map<string, MeshService>();
  for (const s of all) if (!byHostname.has(s.hostname)) byHostname.set(s.hostname, s);
  return [...byHostname.values()];
}

/** Istio's `networking.istio.io/exportTo` annotation on a Kubernetes Service. */
function exportToAnnotation(svc: Resource<ServiceSpec>): string[] | undefined {
  const text = svc.metadata.annotations?.['networking.istio.io/exportTo'];
  return text === undefined ? undefined : text.split(',').map((e) => e.trim());
}

function fromService(
  svc: Resource<ServiceSpec>,
  entries: readonly Resource<WorkloadEntrySpec>[],
  sniffing: boolean,
): MeshService {
  const namespace = namespaceOf(svc);
  const ports = (svc.spec?.ports ?? [])
    .filter((p) => p.protocol !== 'UDP')
    .map((p) => ({
      number: p.port,
      name: p.name ?? '',
      ...portTraffic(protocolOfPort(p), sniffing),
      targetPort: p.targetPort === 0 || p.targetPort === '' ? undefined : p.targetPort,
    }));
  const workloads = entries
    .filter((w) => namespaceOf(w) === namespace && selects(svc.spec?.selector, w.spec?.labels))
    .flatMap((w) => workloadOf(w.spec, namespace, w.metadata.name));
  return {
    hostname: serviceFqdn(svc.metadata.name, namespace),
    namespace,
    shortName: svc.metadata.name,
    ports,
    workloads,
    isExternal: false,
    resolution: 'STATIC',
  };
}

function fromServiceEntry(
  se: Resource<ServiceEntrySpec>,
  entries: readonly Resource<WorkloadEntrySpec>[],
  sniffing: boolean,
): MeshService[] {
  const spec = se.spec;
  if (spec === undefined) return [];
  const namespace = namespaceOf(se);
  const ports: MeshPort[] = (spec.ports ?? []).map((p) => ({
    number: p.number,
    name: p.name,
    ...portTraffic(protocolOfPort({ appProtocol: p.protocol ?? '', port: p.number }), sniffing),
    targetPort: p.targetPort,
  }));
  // DYNAMIC_DNS resolves the host of each request, as a passthrough does: there are no endpoints.
  const resolution = spec.resolution ?? 'NONE';
  const kind =
    resolution === 'STATIC'
      ? 'STATIC'
      : resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN'
        ? 'DNS'
        : 'NONE';
  const selector = spec.workloadSelector?.labels;
  const inline = (spec.endpoints ?? []).flatMap((e) => workloadOf(e, namespace, ''));
  const selected =
    selector === undefined
      ? []
      : entries
          .filter((w) => namespaceOf(w) === namespace && selects(selector, w.spec?.labels))
          .flatMap((w) => workloadOf(w.spec, namespace, w.metadata.name));
  return spec.hosts.map((hostname) => ({
    hostname,
    namespace,
    shortName: undefined,
    ports,
    workloads: workloadsFor(kind, hostname, [...inline, ...selected]),
    isExternal: spec.location === 'MESH_EXTERNAL',
    resolution: kind,
  }));
}

function workloadsFor(
  kind: MeshService['resolution'],
  hostname: string,
  listed: MeshWorkload[],
): MeshWorkload[] {
  if (kind === 'NONE') return [];
  if (kind === 'DNS' && listed.length === 0) return [dnsSelf(hostname)];
  return listed;
}

/** DNS resolution without endpoints: the host itself is the one endpoint, on each port. */
function dnsSelf(hostname: string): MeshWorkload {
  return {
    address: hostname,
    ports: {},
    labels: {},
    workload: '',
    namespace: '',
    serviceAccount: '',
    locality: '',
    weight: 1,
  };
}

function workloadOf(spec: WorkloadEntrySpec | undefined, namespace: string, name: string): MeshWorkload[] {
  const address = spec?.address;
  if (address === undefined || address === '' || address.startsWith('unix://')) return [];
  return [
    {
      address,
      ports: { ...(spec?.ports ?? {}) },
      labels: { ...(spec?.labels ?? {}) },
      workload: name,
      namespace,
      serviceAccount: spec?.serviceAccount || 'default',
      locality: spec?.locality ?? '',
      weight: spec?.weight || 1,
    },
  ];
}

/** The port a workload serves a service port on: its own `ports` entry, else targetPort, else the port. */
export function workloadPort(
  port: MeshPort,
  w: { ports: Readonly<Record<string, number>> },
): number | undefined {
  const own = port.name === '' ? undefined : w.ports[port.name];
  if (own !== undefined) return own;
  const target = port.targetPort;
  if (typeof target === 'number' && target > 0) return target;
  if (typeof target === 'string' && target !== '') return w.ports[target];
  return port.number;
}
