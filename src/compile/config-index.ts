// The config a compilation reads, indexed once: resources by kind and namespace, and the label
// selector match Istio uses (every selector label present with the same value).

import {
  type MeshConfig,
  type MeshConfigSpec,
  type PeerAuthenticationSpec,
  type Resource,
  resolveMeshConfig,
  type ServiceSpec,
  type SidecarSpec,
  type WorkloadEntrySpec,
} from '../config/index.ts';

export interface IndexedConfig {
  mesh: MeshConfig;
  services: Resource<ServiceSpec>[];
  workloadEntries: Resource<WorkloadEntrySpec>[];
  sidecars: Resource<SidecarSpec>[];
  peerAuthentications: Resource<PeerAuthenticationSpec>[];
}

export function indexConfig(resources: readonly Resource[]): IndexedConfig {
  const byKind = (kind: string) => resources.filter((r) => r.kind === kind);
  const meshObject = resources.find((r) => r.kind === 'MeshConfig');
  return {
    mesh: resolveMeshConfig(meshObject?.spec as MeshConfigSpec | undefined),
    services: byKind('Service') as Resource<ServiceSpec>[],
    workloadEntries: byKind('WorkloadEntry') as Resource<WorkloadEntrySpec>[],
    sidecars: byKind('Sidecar') as Resource<SidecarSpec>[],
    peerAuthentications: byKind('PeerAuthentication') as Resource<PeerAuthenticationSpec>[],
  };
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

/** `reviews.default.svc.cluster.local` */
export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
