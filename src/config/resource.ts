// The shape every stored object shares, Kubernetes style: apiVersion, kind, metadata, spec.
// Kind-specific spec types live in src/config/kinds; this module knows none of them.

export interface ObjectMeta {
  name: string;
  /** Absent only on cluster-scoped kinds (MeshConfig). */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the store: the revision of the write that produced this object, as a decimal string. */
  resourceVersion?: string;
  /** Set by the store when the object is first created. */
  uid?: string;
  creationTimestamp?: string;
  generation?: number;
  /** The objects this one belongs to (an auto-registered WorkloadEntry's WorkloadGroup). */
  ownerReferences?: OwnerReference[];
}

/** Kubernetes' OwnerReference: the owner's kind, name and uid; `controller` marks the managing owner. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface Resource<S = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: S;
  /** Top-level fields some core kinds have besides spec (a ServiceAccount's `secrets`). */
  [extra: string]: unknown;
}

/** Identifies one object: its kind, namespace ('' when cluster-scoped) and name. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export function refOf(r: Resource): ObjectRef {
  return { kind: r.kind, namespace: r.metadata.namespace ?? '', name: r.metadata.name };
}

/** `VirtualService default/reviews`, or `MeshConfig default` when cluster-scoped. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace === '' ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}
