// The workloads of one node proxy are pushed many resources alike: the clusters, endpoints and
// routes of every service they may call. Each push arrives as its own message, parsed into its own
// copy; the node keeps one object per type, name and version (a digest of the body: equal version,
// equal content) for as long as any workload holds it, and hands that one to every workload. The
// snapshots the workloads build share it in turn (ProxyAgent passes them to the proxy uncopied).

import { RESOURCE_TYPES, type ResourceDelta, type TypeDelta, type WireResource } from '../wire/index.ts';

export class ResourceInterner {
  /** `type name version` → the one object, while some workload still holds it. */
  readonly #held = new Map<string, WeakRef<WireResource>>();
  readonly #collected = new FinalizationRegistry<string>((key) => {
    if (this.#held.get(key)?.deref() === undefined) this.#held.delete(key);
  });

  /** Resources interned now (those no workload holds any more drop out as V8 collects them). */
  get size(): number {
    return this.#held.size;
  }

  /** The delta with each upserted resource replaced by the node's one of that version. */
  delta(delta: ResourceDelta): ResourceDelta {
    for (const type of RESOURCE_TYPES) {
      const d = delta[type] as TypeDelta | undefined;
      if (d === undefined) continue;
      d.upsert = d.upsert.map((r) => this.#intern(type, r));
    }
    return delta;
  }

  #intern(type: string, r: WireResource): WireResource {
    const key = `${type} ${r.name} ${r.version}`;
    const had = this.#held.get(key)?.deref();
    if (had !== undefined) return had;
    this.#held.set(key, new WeakRef(r));
    this.#collected.register(r, key);
    return r;
  }
}
