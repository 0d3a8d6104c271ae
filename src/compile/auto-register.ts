// Auto-registration as Istio does it: the WorkloadEntry a workload gets when its proxy joins as a
// member of a WorkloadGroup. Pure; the control plane stores the entry and removes it when the
// workload leaves.

import type { Resource, WorkloadEntrySpec, WorkloadGroupSpec } from '../config/index.ts';

/** The WorkloadGroup an entry was made from (Istio's annotation, read by `istioctl` too). */
export const AUTO_REGISTRATION_GROUP_ANNOTATION = 'istio.io/autoRegistrationGroup';
/** When the workload's proxy connected, RFC 3339 with milliseconds. */
export const CONNECTED_AT_ANNOTATION = 'istio.io/connectedAt';
/** Set when the group has a probe: the entry's health comes from its proxy's reports. */
export const HEALTH_CHECKS_ANNOTATION = 'proxy.istio.io/health-checks-enabled';
/**
 * Where the workload's app listens when not at 127.0.0.1: `alder run` gives each workload of a shared
 * host an address for its app, so apps may share a port number. Inbound listeners forward there.
 */
export const APP_ADDRESS_ANNOTATION = 'alder.dev/app-address';

const MAX_NAME_LENGTH = 253;

/** What a joining workload says about itself. */
export interface WorkloadJoin {
  /** The IP address its proxy connects from and serves on. */
  address: string;
  /** Its own labels, laid over the group's. */
  labels?: Record<string, string>;
  /** Overrides the template's network and locality when set and not empty. */
  network?: string;
  locality?: string;
  /** The entry's name when the workload asks for one; otherwise `<group>-<address>[-<network>]`. */
  name?: string;
  /** When its proxy connected; now when unset. */
  connectedAt?: Date;
  /** Where its app listens, when it has an address of its own (APP_ADDRESS_ANNOTATION). */
  appAddress?: string;
}

/**
 * The WorkloadEntry for a workload joining `group`: the template's spec with the workload's address,
 * labels merged template < group `metadata.labels` < the workload's own (Istio's order), the group's
 * annotations plus the auto-registration ones, and the group as controlling owner.
 */
export function autoRegisteredEntry(
  group: Resource<WorkloadGroupSpec>,
  join: WorkloadJoin,
): Resource<WorkloadEntrySpec> {
  const spec = group.spec;
  const template = spec?.template ?? {};
  const labels = { ...template.labels, ...spec?.metadata?.labels, ...join.labels };
  const entry: WorkloadEntrySpec = { ...structuredClone(template), address: join.address };
  if (Object.keys(labels).length > 0) entry.labels = labels;
  if (join.network) entry.network = join.network;
  if (join.locality) entry.locality = join.locality;

  const annotations: Record<string, string> = {
    ...spec?.metadata?.annotations,
    [AUTO_REGISTRATION_GROUP_ANNOTATION]: group.metadata.name,
    [CONNECTED_AT_ANNOTATION]: (join.connectedAt ?? new Date()).toISOString(),
  };
  if (spec?.probe !== undefined) annotations[HEALTH_CHECKS_ANNOTATION] = 'true';
  if (join.appAddress) annotations[APP_ADDRESS_ANNOTATION] = join.appAddress;

  const owner = { apiVersion: group.apiVersion, kind: group.kind, name: group.metadata.name };
  const uid = group.metadata.uid;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name: join.name || autoRegisteredName(group.metadata.name, join.address, join.network),
      ...(group.metadata.namespace === undefined ? {} : { namespace: group.metadata.namespace }),
      ...(Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
      annotations,
      ownerReferences: [{ ...owner, ...(uid === undefined ? {} : { uid }), controller: true }],
    },
    spec: entry,
  };
}

/**
 * Istio's GenerateWorkloadEntryName: `<group>-<address>[-<network>]`, an IPv6 address's colons made
 * dashes (the dots of IPv4 stay: a name may hold them), anything else a name may not hold made a
 * dash, and past 253 characters cut from the front.
 */
export function autoRegisteredName(group: string, address: string, network?: string): string {
  const parts = [group, address.replaceAll(':', '-')];
  if (network) parts.push(network);
  let name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-');
  if (name.length > MAX_NAME_LENGTH) name = name.slice(name.length - MAX_NAME_LENGTH);
  return name.replace(/^[^a-z0-9]+/, '').replace(/[^a-z0-9]+$/, '');
}
