// Admission: what runs before anything is stored. Every object is checked with the same code as
// `alder validate` (src/config); any error refuses the whole request with every problem listed.
// Later checks (vet errors, host claims, RBAC) join here.

import {
  AlderError,
  apiVersionOf,
  checkObject,
  describeRef,
  ErrorCode,
  type Finding,
  formatFinding,
  type KindInfo,
  type LoadedResource,
  loadSources,
  NOT_ENFORCED_KINDS,
  type NotEnforcedKind,
  notEnforcedKinds,
  type Resource,
  type SkippedKind,
  type Source,
} from '../config/index.ts';
import { checkObjectSizes } from './object-size.ts';

export interface AdmittedObject {
  resource: Resource;
  warnings: string[];
}

/** Checks one object sent to a resource path; `namespace` is the path's ('' for cluster-scoped). */
export function admitObject(
  value: Record<string, unknown>,
  info: KindInfo,
  namespace: string,
): AdmittedObject {
  const apiVersion = value.apiVersion;
  if (
    value.kind !== info.kind ||
    typeof apiVersion !== 'string' ||
    !info.versions.some((v) => apiVersionOf(info, v) === apiVersion)
  ) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `body is ${String(value.apiVersion)} ${String(value.kind)} but the path addresses ${apiVersionOf(info)} ${info.kind}`,
      { hint: 'send the object to its own kind path, or use `alder apply`, which routes each object' },
    );
  }
  const meta = value.metadata as Record<string, unknown> | undefined;
  const bodyNamespace =
    typeof meta?.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
  if (info.namespaced && bodyNamespace !== undefined && bodyNamespace !== namespace) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `metadata.namespace is ${bodyNamespace} but the path addresses namespace ${namespace}`,
      { hint: 'make them agree, or leave metadata.namespace out' },
    );
  }
  const checked = checkObject(value, info, { defaultNamespace: namespace });
  const errors = checked.issues.filter((i) => i.severity === 'error');
  const where = checked.ref === undefined ? info.kind : describeRef(checked.ref);
  if (errors.length > 0 || checked.resource === undefined) {
    const lines = errors.map((i) => `${where}: ${i.path}: ${i.message}`);
    throw invalid(
      lines,
      errors.map((i) => ({ path: i.path, message: i.message })),
    );
  }
  const warnings = checked.issues
    .filter((i) => i.severity === 'warning')
    .map((i) => `${where}: ${i.path}: ${i.message}`);
  const notEnforced = NOT_ENFORCED_KINDS.get(info.kind);
  if (notEnforced !== undefined) warnings.push(`${where}: stored but not enforced yet: ${notEnforced}`);
  return { resource: checked.resource, warnings };
}

export interface AdmittedSources {
  resources: LoadedResource[];
  warnings: string[];
  skipped: SkippedKind[];
  /** Kinds among the resources that no proxy enforces yet. */
  notEnforced: NotEnforcedKind[];
}

/** Checks every document of every source; one error anywhere refuses them all. */
export function admitSources(sources: readonly Source[], defaultNamespace: string): AdmittedSources {
  checkObjectSizes(sources);
  const loaded = loadSources(sources, { defaultNamespace });
  if (loaded.errors.length > 0) {
    throw invalid(loaded.errors.map(formatFinding), loaded.errors.map(findingDetail));
  }
  return {
    resources: loaded.resources,
    warnings: loaded.warnings.map(formatFinding),
    skipped: loaded.skipped,
    notEnforced: notEnforcedKinds(loaded.resources.map((l) => l.info)),
  };
}

function findingDetail(f: Finding): Record<string, unknown> {
  return {
    source: f.source,
    line: f.line,
    object: f.ref === undefined ? undefined : describeRef(f.ref),
    path: f.path,
    message: f.message,
  };
}

function invalid(lines: string[], causes: Record<string, unknown>[]): AlderError {
  const count = lines.length === 1 ? '1 error' : `${lines.length} errors`;
  return new AlderError(
    ErrorCode.ConfigInvalid,
    `config refused, nothing was stored (${count}):\n${lines.join('\n')}`,
    {
      hint: 'fix every error listed and apply again; `alder validate -f FILE` checks without a server',
      details: { errors: causes },
    },
  );
}
