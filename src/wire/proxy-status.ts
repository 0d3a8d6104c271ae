// What `GET /alder/v1/proxy-status` answers: per connected proxy, its workload and identity and, per
// resource type, whether it runs the latest config. The control plane builds it; the CLI reads it.

import type { ResourceType } from './resources.ts';

export type SyncState = 'SYNCED' | 'STALE' | 'NACKED';

export interface TypeStatus {
  state: SyncState;
  /** A digest of the names and versions the proxy holds of this type. */
  version: string;
  /** The proxy's reason when it refused the type's last push. */
  error?: string;
}

export interface ProxyStatusRow {
  id: string;
  workload: string;
  /** The workload's mesh address (its WorkloadEntry's). */
  address: string;
  /** Where the proxy's stream comes from. */
  peer: string;
  /** The stream the workload's session is on (`proxy-7`): a node proxy's workloads share one. */
  connection?: string;
  identity: string;
  agent: string;
  connectedAt: string;
  syncedRevision: string;
  types: Partial<Record<ResourceType, TypeStatus>>;
  lastError?: string;
  certificateExpiry?: string;
  /** The app's readiness, as its proxy's probe last reported it. */
  health?: { healthy: boolean; reason: string };
}

export interface ProxyStatusAnswer {
  /** The store revision the control plane has computed pushes from. */
  revision: string;
  items: ProxyStatusRow[];
}
