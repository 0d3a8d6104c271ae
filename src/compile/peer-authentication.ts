// Which mTLS mode a workload's inbound port runs in, by Istio's PeerAuthentication precedence:
// a port-level setting of a workload policy, then the workload policy, then the namespace policy,
// then the mesh-wide policy in the root namespace, then MeshConfig. UNSET inherits from the next.

import type { PeerAuthenticationSpec, Resource } from '../config/index.ts';
import { selects } from './config-index.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface MtlsQuery {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  port: number;
  rootNamespace: string;
  meshDefault: MtlsMode;
}

export function resolveMtlsMode(
  policies: readonly Resource<PeerAuthenticationSpec>[],
  q: MtlsQuery,
): MtlsMode {
  const oldestFirst = [...policies].sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
  );
  const workload = oldestFirst.find(
    (p) => p.metadata.namespace === q.namespace && selects(p.spec?.selector?.matchLabels, q.labels),
  );
  const namespaceWide = oldestFirst.find(
    (p) =>
      p.metadata.namespace === q.namespace && Object.keys(p.spec?.selector?.matchLabels ?? {}).length === 0,
  );
  const meshWide = oldestFirst.find(
    (p) =>
      p.metadata.namespace === q.rootNamespace &&
      Object.keys(p.spec?.selector?.matchLabels ?? {}).length === 0,
  );
  const candidates = [
    workload?.spec?.portLevelMtls?.[String(q.port)]?.mode,
    workload?.spec?.mtls?.mode,
    namespaceWide?.spec?.mtls?.mode,
    meshWide?.spec?.mtls?.mode,
  ];
  for (const mode of candidates) {
    if (mode !== undefined && mode !== 'UNSET') return mode;
  }
  return q.meshDefault;
}
