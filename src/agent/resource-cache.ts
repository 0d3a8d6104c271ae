// What the proxy holds from the control plane, by type and name, and its copy on disk: written
// after every accepted push (temp file, then rename: never a torn file), read at start so that a
// proxy restarted while the control plane is away serves its last good config. The file names the
// wire version it was written with; a file of another version (an upgrade) is ignored, not misread.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  emptyResourceSet,
  RESOURCE_TYPES,
  type ResourceSet,
  type ResourceType,
  WIRE_VERSION,
  type WireResource,
  type WorkloadRef,
} from '../wire/index.ts';

const FILE = 'resources.json';

interface CacheFile {
  /** Absent in files written before wire version 4. */
  wireVersion?: number;
  workload: WorkloadRef;
  revision: string;
  resources: Partial<Record<ResourceType, WireResource[]>>;
}

export function saveResources(dir: string, workload: WorkloadRef, revision: string, set: ResourceSet): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file: CacheFile = { wireVersion: WIRE_VERSION, workload, revision, resources: {} };
  for (const type of RESOURCE_TYPES) {
    file.resources[type] = [...(set[type] as Map<string, WireResource>).values()];
  }
  const path = join(dir, FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * The saved resources of this workload, or undefined: none saved, another workload's, unreadable,
 * or written by another wire version (the proxy then starts empty and the control plane sends all).
 */
export function loadResources(
  dir: string,
  workload: WorkloadRef,
): { revision: string; set: ResourceSet } | undefined {
  let file: CacheFile;
  try {
    file = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (typeof file !== 'object' || file === null || file.wireVersion !== WIRE_VERSION) return undefined;
  if (file.workload?.namespace !== workload.namespace || file.workload?.name !== workload.name)
    return undefined;
  const set = emptyResourceSet();
  for (const type of RESOURCE_TYPES) {
    const m = set[type] as Map<string, WireResource>;
    const saved: unknown = file.resources?.[type];
    if (!Array.isArray(saved)) continue;
    for (const r of saved as WireResource[]) if (typeof r?.name === 'string') m.set(r.name, r);
  }
  return { revision: String(file.revision ?? '0'), set };
}
