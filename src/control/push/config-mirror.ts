// The control plane's in-memory copy of the config proxies are compiled from: every object of the
// kinds the compiler reads (and the WorkloadGroups whose probes proxies run), listed once and then
// kept current by one store watch. Tells its owner when something changed and at which store revision.

import { COMPILED_KINDS } from '../../compile/index.ts';
import type { Resource } from '../../config/index.ts';
import type { Store, StoredObject, Watch, WatchEvent } from '../store/index.ts';

/** WorkloadGroups are not compiled, but their probes go to their members' proxies. */
const MIRRORED_KINDS = [...COMPILED_KINDS, 'WorkloadGroup'] as const;
const MIRRORED = new Set<string>(MIRRORED_KINDS);

function keyOf(o: Resource): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export class ConfigMirror {
  readonly #objects = new Map<string, StoredObject>();
  #revision = 0;
  #resources: Resource[] | undefined;
  #watch: Watch | undefined;

  /** The store revision the copy is current with. */
  get revision(): number {
    return this.#revision;
  }

  /** Every object, as one array (rebuilt only after a change). */
  resources(): readonly Resource[] {
    this.#resources ??= [...this.#objects.values()];
    return this.#resources;
  }

  /** One object, as the copy has it now. */
  get(kind: string, namespace: string, name: string): StoredObject | undefined {
    return this.#objects.get(`${kind}/${namespace}/${name}`);
  }

  /** Lists every kind, then follows the store from the revision read before the lists. */
  async start(store: Store, onChange: (revision: number) => void): Promise<void> {
    const from = await store.currentRevision();
    for (const kind of MIRRORED_KINDS) {
      const { items } = await store.list({ kind });
      for (const o of items) this.#put(o);
    }
    this.#revision = Number(from);
    this.#watch = await store.watch({ fromRevision: from }, (event) => {
      if (this.#apply(event)) onChange(this.#revision);
    });
  }

  stop(): void {
    this.#watch?.stop();
  }

  /** True when the event changed the copy (events already reflected by the lists change nothing). */
  #apply(event: WatchEvent): boolean {
    const o = event.object;
    const revision = Number(o.metadata.resourceVersion);
    if (revision > this.#revision) this.#revision = revision;
    if (!MIRRORED.has(o.kind)) return false;
    const key = keyOf(o);
    const had = this.#objects.get(key);
    if (had !== undefined && Number(had.metadata.resourceVersion) >= revision) return false;
    if (event.type === 'DELETED') {
      if (had === undefined) return false;
      this.#objects.delete(key);
    } else {
      this.#objects.set(key, o);
    }
    this.#resources = undefined;
    return true;
  }

  #put(o: StoredObject): void {
    const key = keyOf(o);
    const had = this.#objects.get(key);
    if (had === undefined || Number(had.metadata.resourceVersion) < Number(o.metadata.resourceVersion)) {
      this.#objects.set(key, o);
      this.#resources = undefined;
    }
  }
}
