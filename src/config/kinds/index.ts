// The registry of kinds Alder manages, and lookups by apiVersion, API path and command-line name.
// To add a kind: write its module beside this one and list it in KINDS.

import type { KindInfo } from '../kind-info.ts';
import { authorizationPolicy } from './authorization-policy.ts';
import { destinationRule } from './destination-rule.ts';
import { gateway } from './gateway.ts';
import { meshConfig } from './mesh-config.ts';
import { peerAuthentication } from './peer-authentication.ts';
import { requestAuthentication } from './request-authentication.ts';
import { service } from './service.ts';
import { serviceAccount } from './service-account.ts';
import { serviceEntry } from './service-entry.ts';
import { sidecar } from './sidecar.ts';
import { virtualService } from './virtual-service.ts';
import { workloadEntry } from './workload-entry.ts';
import { workloadGroup } from './workload-group.ts';

/** In the order `alder get all` prints them: the mesh, its registry, traffic, then security. */
export const KINDS: readonly KindInfo[] = [
  meshConfig as KindInfo,
  service as KindInfo,
  serviceAccount as KindInfo,
  workloadEntry as KindInfo,
  workloadGroup as KindInfo,
  serviceEntry as KindInfo,
  gateway as KindInfo,
  virtualService as KindInfo,
  destinationRule as KindInfo,
  sidecar as KindInfo,
  peerAuthentication as KindInfo,
  authorizationPolicy as KindInfo,
  requestAuthentication as KindInfo,
];

/** API groups whose every kind Alder knows: an unknown kind there is a mistake, not something to skip. */
const MANAGED_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'mesh.alder.dev']);

/** Istio's kinds in those groups that Alder does not manage: skipped like any unmanaged kind. */
const UNMANAGED_ISTIO_KINDS = new Set(['networking.istio.io/EnvoyFilter', 'networking.istio.io/ProxyConfig']);

export function isManagedGroup(group: string): boolean {
  return MANAGED_GROUPS.has(group);
}

/** Whether `kind` of `group` is one of Istio's kinds that Alder skips (EnvoyFilter, ProxyConfig). */
export function isUnmanagedIstioKind(group: string, kind: string): boolean {
  return UNMANAGED_ISTIO_KINDS.has(`${group}/${kind}`);
}

const byApiVersion = new Map<string, KindInfo>();
const byName = new Map<string, KindInfo>();
for (const info of KINDS) {
  for (const v of info.versions) {
    byApiVersion.set(`${info.group === '' ? v : `${info.group}/${v}`} ${info.kind}`, info);
  }
  for (const name of [info.kind.toLowerCase(), info.plural, ...info.shortNames]) byName.set(name, info);
}

/** The kind an object's apiVersion and kind name, or undefined when Alder does not manage it. */
export function findKindByApiVersion(apiVersion: string, kind: string): KindInfo | undefined {
  return byApiVersion.get(`${apiVersion} ${kind}`);
}

/** A kind by the names users type: `VirtualService`, `virtualservices`, `vs` (any case). */
export function findKindByName(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const exact = byName.get(lower);
  if (exact !== undefined) return exact;
  // `virtualservices.networking.istio.io`, as kubectl accepts.
  const dot = lower.indexOf('.');
  if (dot === -1) return undefined;
  const found = byName.get(lower.slice(0, dot));
  return found !== undefined && found.group === lower.slice(dot + 1) ? found : undefined;
}

/** A kind by its API path: group ('' for core), version and plural. */
export function findKindByPath(group: string, version: string, plural: string): KindInfo | undefined {
  const info = byName.get(plural);
  if (info === undefined || info.plural !== plural || info.group !== group) return undefined;
  return info.versions.includes(version) ? info : undefined;
}
