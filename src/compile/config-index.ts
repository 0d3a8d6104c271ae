// The config a compilation reads, indexed once: resources by kind (traffic kinds oldest first, as
// Istio orders them), and the label selector match Istio uses (every selector label present with
// the same value).

import {
  type AuthorizationPolicySpec,
  type DestinationRuleSpec,
  type MeshConfig,
  type MeshConfigSpec,
  type PeerAuthenticationSpec,
  type RequestAuthenticationSpec,
  type Resource,
  resolveMeshConfig,
  type ServiceEntrySpec,
  type ServiceSpec,
  type SidecarSpec,
  type VirtualServiceSpec,
  type WorkloadEntrySpec,
} from '../config/index.ts';

export interface IndexedConfig {
  mesh: MeshConfig;
  services: Resource<ServiceSpec>[];
  workloadEntries: Resource<WorkloadEntrySpec>[];
  sidecars: Resource<SidecarSpec>[];
  peerAuthentications: Resource<PeerAuthenticationSpec>[];
  authorizationPolicies: Resource<AuthorizationPolicySpec>[];
  requestAuthentications: Resource<RequestAuthenticationSpec>[];
  /** Oldest first (creationTimestamp, then name, then namespace), as Istio sorts them. */
  serviceEntries: Resource<ServiceEntrySpec>[];
  virtualServices: Resource<VirtualServiceSpec>[];
  destinationRules: Resource<DestinationRuleSpec>[];
}

/**
 * The kinds a compilation reads. Every other kind Alder stores is in config's NOT_ENFORCED_KINDS,
 * except ServiceAccount: a workload's identity is the name its WorkloadEntry gives.
 */
export const COMPILED_KINDS = [
  'MeshConfig',
  'Service',
  'WorkloadEntry',
  'Sidecar',
  'PeerAuthentication',
  'AuthorizationPolicy',
  'RequestAuthentication',
  'ServiceEntry',
  'VirtualService',
  'DestinationRule',
] as const;

export function indexConfig(resources: readonly Resource[]): IndexedConfig {
  const byKind = (kind: (typeof COMPILED_KINDS)[number]) => resources.filter((r) => r.kind === kind);
  const meshObject = resources.find((r) => r.kind === 'MeshConfig');
  return {
    mesh: resolveMeshConfig(meshObject?.spec as MeshConfigSpec | undefined),
    services: byKind('Service') as Resource<ServiceSpec>[],
    workloadEntries: byKind('WorkloadEntry') as Resource<WorkloadEntrySpec>[],
    sidecars: byKind('Sidecar') as Resource<SidecarSpec>[],
    peerAuthentications: byKind('PeerAuthentication') as Resource<PeerAuthenticationSpec>[],
    authorizationPolicies: byKind('AuthorizationPolicy') as Resource<AuthorizationPolicySpec>[],
    requestAuthentications: byKind('RequestAuthentication') as Resource<RequestAuthenticationSpec>[],
    serviceEntries: oldestFirst(byKind('ServiceEntry')) as Resource<ServiceEntrySpec>[],
    virtualServices: oldestFirst(byKind('VirtualService')) as Resource<VirtualServiceSpec>[],
    destinationRules: oldestFirst(byKind('DestinationRule')) as Resource<DestinationRuleSpec>[],
  };
}

/** Istio's configCompareByCreationTime: creation time, then name, then namespace. */
export function compareByCreation(a: Resource, b: Resource): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
  const na = namespaceOf(a);
  const nb = namespaceOf(b);
  return na === nb ? 0 : na < nb ? -1 : 1;
}

function oldestFirst(resources: Resource[]): Resource[] {
  return [...resources].sort(compareByCreation);
}

export function namespaceOf(r: Resource): string {
  return r.metadata.namespace ?? 'default';
}

/** `namespace/name`, as origins name a resource. */
export function refName(r: Resource): string {
  return `${namespaceOf(r)}/${r.metadata.name}`;
}

/** Whether `labels` carry every label of a non-empty `selector`. An empty selector selects nothing here. */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const keys = Object.keys(selector ?? {});
  if (keys.length === 0) return false;
  return keys.every((k) => labels?.[k] === selector?.[k]);
}

/** Istio's labels.Instance.SubsetOf: every label of `subset` (possibly none) is in `labels`. */
export function isLabelSubset(
  subset: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(subset ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** `reviews.default.svc.cluster.local` */
export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
