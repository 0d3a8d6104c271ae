// What `alder proxy-status` shows and `alder apply --wait` waits on: every connected proxy's
// per-type state (SYNCED, STALE, NACKED), the store revision it runs, and its last error.

import type { ProxyStatusAnswer, ProxyStatusRow, ResourceType } from '../wire/index.ts';
import type { ApiClient } from './client.ts';

export type { ProxyStatusAnswer, ProxyStatusRow };

/** The table's columns: the types each stands for (ROUTES is the route tables and their virtual hosts). */
export const RESOURCE_COLUMNS = [
  [['proxy'], 'PROXY'],
  [['bundle'], 'BUNDLE'],
  [['cluster'], 'CLUSTERS'],
  [['endpoints'], 'ENDPOINTS'],
  [['route', 'vhost'], 'ROUTES'],
  [['listener'], 'LISTENERS'],
] as const;

const SEVERITY = ['-', 'SYNCED', 'STALE', 'NACKED'];

/** A column's state: the worst of its types' (NACKED over STALE over SYNCED). */
export function columnState(row: ProxyStatusRow, types: readonly ResourceType[]): string {
  let worst = '-';
  for (const t of types) {
    const state = row.types[t]?.state ?? '-';
    if (SEVERITY.indexOf(state) > SEVERITY.indexOf(worst)) worst = state;
  }
  return worst;
}

export function fetchProxyStatus(client: ApiClient): Promise<ProxyStatusAnswer> {
  return client.request<ProxyStatusAnswer>('GET', '/alder/v1/proxy-status');
}

export function isNacked(row: ProxyStatusRow): boolean {
  return Object.values(row.types).some((t) => t?.state === 'NACKED');
}

export function isStale(row: ProxyStatusRow): boolean {
  return Object.values(row.types).some((t) => t?.state === 'STALE');
}

/** Where each proxy stands against `revision`: in sync, refused it (with why), or still behind. */
export function syncReport(answer: ProxyStatusAnswer, revision: number) {
  const computed = Number(answer.revision) >= revision;
  const synced = answer.items.filter((r) => Number(r.syncedRevision) >= revision);
  const nacked = computed
    ? answer.items.filter((r) => Number(r.syncedRevision) < revision && isNacked(r) && !isStale(r))
    : [];
  const behind = answer.items.filter((r) => !synced.includes(r) && !nacked.includes(r));
  return { synced, nacked, behind, isDone: computed && behind.length === 0 };
}

/** `listener: the proxy cannot listen on …` for each refused type. */
export function nackReasons(row: ProxyStatusRow): string[] {
  return Object.entries(row.types)
    .filter(([, t]) => t?.state === 'NACKED')
    .map(([type, t]) => `${type}: ${t?.error ?? row.lastError ?? 'refused'}`);
}
