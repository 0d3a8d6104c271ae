// What each proxy should hold, computed per config generation: the part a workload shares with every
// workload of its shape (namespace and labels) is compiled once per shape, the part only it has
// (identity, listeners at its address) once per proxy. A resource whose content did not change keeps
// its object from the previous generation, so its encoded form is made once for every proxy.

import {
  AUTO_REGISTRATION_GROUP_ANNOTATION,
  compileSharedPart,
  compileWorkloadPart,
  findWorkloadEntry,
  type IndexedConfig,
  indexConfig,
  namespaceOf,
  type ProbePlan,
  probePlanOf,
} from '../../compile/index.ts';
import type { Resource, WorkloadEntrySpec, WorkloadGroupSpec } from '../../config/index.ts';
import {
  type AuthzPolicy,
  emptyResourceSet,
  type JwtRule,
  type MeshSettings,
  RESOURCE_TYPES,
  type ResourceSet,
  type ResourceType,
  resourcesOf,
  type WireResource,
  type WorkloadRef,
  wireResource,
} from '../../wire/index.ts';

export interface ProxyDesired {
  /** Read only: maps of types the proxy adds nothing to are its shape's, shared by other proxies. */
  set: ResourceSet;
  entry: Resource<WorkloadEntrySpec>;
  shape: string;
}

export class ProxyResources {
  #config: IndexedConfig | undefined;
  /** `namespace/name` → WorkloadEntry, for this generation. */
  #entries: Map<string, Resource<WorkloadEntrySpec>> | undefined;
  #withheld: readonly Resource[] = [];
  /** `namespace/name` → WorkloadGroup, for this generation. */
  #groups: Map<string, Resource<WorkloadGroupSpec>> | undefined;
  #resources: readonly Resource[] = [];
  #shapes = new Map<string, Shape>();
  #previous = new Map<string, Shape>();
  /** Shapes compiled in this generation, for metrics and the benchmark. */
  compiledShapes = 0;

  #bundle: WireResource<'bundle'> | undefined;

  /**
   * A new config generation (or trust bundle): shapes are compiled again on first use.
   * `resources` are compiled; `withheld` are WorkloadEntries left out of every caller's endpoints
   * (their proxy is gone or their app unhealthy) whose own proxies are still configured.
   */
  update(
    resources: readonly Resource[],
    trustBundle: string | undefined,
    withheld: readonly Resource[] = [],
  ): void {
    this.#withheld = withheld;
    this.#resources = resources;
    const bundle =
      trustBundle === undefined ? undefined : wireResource<'bundle'>('trust-bundle', { pem: trustBundle });
    if (bundle?.version !== this.#bundle?.version) this.#bundle = bundle;
    this.#config = undefined;
    this.#entries = undefined;
    this.#groups = new Map(
      resources
        .filter((r) => r.kind === 'WorkloadGroup')
        .map((g) => [`${namespaceOf(g)}/${g.metadata.name}`, g as Resource<WorkloadGroupSpec>]),
    );
    this.#previous = this.#shapes;
    this.#shapes = new Map();
    this.compiledShapes = 0;
  }

  /** Throws an AlderError (ALDER_COMPILE_FAILED) when the workload has no entry or fails to compile. */
  forWorkload(workload: WorkloadRef, outboundProxy: { address: string; port: number } | null): ProxyDesired {
    this.#config ??= indexConfig(this.#resources);
    const config = this.#config;
    this.#entries ??= new Map(
      [...config.workloadEntries, ...(this.#withheld as Resource<WorkloadEntrySpec>[])].map((w) => [
        `${namespaceOf(w)}/${w.metadata.name}`,
        w,
      ]),
    );
    const found = this.#entries.get(`${workload.namespace}/${workload.name}`);
    const entry = found?.spec?.address !== undefined ? found : findWorkloadEntry(config, workload);
    const own = compileWorkloadPart(config, entry, outboundProxy);
    const labels = own.proxy.labels;
    const shape = `${own.proxy.namespace}\n${Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',')}`;
    let shared = this.#shapes.get(shape);
    if (shared === undefined) {
      const part = compileSharedPart(config, { namespace: own.proxy.namespace, labels });
      shared = {
        mesh: part.mesh,
        authorization: part.authorization,
        requestAuthentication: part.requestAuthentication,
        set: reuse(resourcesOf(part), this.#previous.get(shape)?.set),
      };
      this.#shapes.set(shape, shared);
      this.compiledShapes++;
    }
    const probe = this.#probeOf(entry);
    const mine = resourcesOf({
      proxy: own.proxy,
      mesh: shared.mesh,
      authorization: shared.authorization,
      requestAuthentication: shared.requestAuthentication,
      ...(probe === undefined ? {} : { probe }),
      listeners: own.listeners,
      clusters: [],
      routeTables: [],
    });
    // The shape's maps are shared by its proxies, not copied (each holds ~100 resources, and 10,000
    // proxies read them once per generation): only types the proxy adds to are merged into new maps.
    const set = emptyResourceSet();
    for (const type of RESOURCE_TYPES) {
      const own = mine[type] as Map<string, WireResource>;
      const common = shared.set[type] as Map<string, WireResource>;
      let m = common;
      if (own.size > 0 || type === 'bundle') {
        m = new Map(common);
        for (const [name, r] of own) m.set(name, r);
      }
      (set as Record<ResourceType, Map<string, WireResource>>)[type] = m;
    }
    if (this.#bundle !== undefined) set.bundle.set(this.#bundle.name, this.#bundle);
    return { set, entry, shape };
  }

  /** The probe of the group an auto-registered entry was made from. */
  #probeOf(entry: Resource<WorkloadEntrySpec>): ProbePlan | undefined {
    const group = entry.metadata.annotations?.[AUTO_REGISTRATION_GROUP_ANNOTATION];
    if (group === undefined) return undefined;
    const probe = this.#groups?.get(`${namespaceOf(entry)}/${group}`)?.spec?.probe;
    return probe === undefined ? undefined : probePlanOf(probe);
  }
}

interface Shape {
  mesh: MeshSettings;
  authorization: AuthzPolicy[];
  requestAuthentication: JwtRule[];
  /** Clusters, endpoints, route tables and egress listeners (no `proxy` resource). */
  set: ResourceSet;
}

/** Keeps the previous generation's object for every resource whose version is unchanged. */
function reuse(next: ResourceSet, previous: ResourceSet | undefined): ResourceSet {
  if (previous === undefined) return next;
  for (const type of RESOURCE_TYPES) {
    const now = next[type] as Map<string, WireResource>;
    const before = previous[type] as Map<string, WireResource>;
    for (const [name, r] of now) {
      const old = before.get(name);
      if (old !== undefined && old.version === r.version) now.set(name, old);
    }
  }
  return next;
}
