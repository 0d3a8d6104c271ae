// What Alder knows about one kind: its API group and versions, names on the command line, scope,
// the schema of its spec, and the columns `alder get` prints (Istio's CRD printer columns).

import type { Resource } from './resource.ts';
import type { Fields, Schema } from './schema.ts';

export interface PrinterColumn<S> {
  header: string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
  value: (r: Resource<S>) => string;
}

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

export interface KindInfo<S = unknown> {
  kind: string;
  /** '' for the Kubernetes core group (Service, ServiceAccount). */
  group: string;
  /** Versions accepted in apiVersion; the first is the one stored and served by default. */
  versions: readonly string[];
  /** Lowercase plural used in API paths and on the command line: `virtualservices`. */
  plural: string;
  shortNames: readonly string[];
  namespaced: boolean;
  /** Schema of `spec`; undefined for kinds without one (ServiceAccount). */
  spec: Schema<S> | undefined;
  /** Whether an object without `spec` is refused. */
  specRequired: boolean;
  /** Top-level fields besides apiVersion, kind, metadata, spec and status. */
  topLevel?: Fields;
  /**
   * The syntax of metadata.name: Services must be DNS-1035 labels, Gateways DNS-1123 labels.
   * Default: DNS-1123 subdomain.
   */
  nameRule?: NameRule;
  /** The only name an object of this kind may have (a singleton such as MeshConfig `default`). */
  fixedName?: string;
  printerColumns?: readonly PrinterColumn<S>[];
}

/** `networking.istio.io/v1`, or `v1` for the core group. */
export function apiVersionOf(info: Pick<KindInfo, 'group' | 'versions'>, version = info.versions[0]): string {
  return info.group === '' ? (version as string) : `${info.group}/${version}`;
}
