// From text to checked resources: parses each source, recognises each document's kind, validates
// metadata and spec, and reports every problem of every document with file, line, object and field.
// Kinds Alder does not manage are skipped with one notice per kind. Used by the CLI and admission.

import { apiVersionOf, type KindInfo } from './kind-info.ts';
import { findKindByApiVersion, isManagedGroup, isUnmanagedIstioKind, KINDS } from './kinds/index.ts';
import { metadataSchemas } from './metadata.ts';
import { type ParsedDocument, type ParseFailure, parseSource } from './parse.ts';
import { describeRef, type ObjectRef, type Resource } from './resource.ts';
import { Checker, describe, type Issue, isPlainObject, MAX_ISSUES, type Severity } from './schema.ts';
import { closest } from './suggest.ts';

export interface LoadedResource {
  resource: Resource;
  info: KindInfo;
  source: string;
  line: number;
  /** 1-based document position within its source. */
  document: number;
}

/** One problem, located: `reviews.yaml:14 VirtualService default/reviews: spec.http[0].timeout: …`. */
export interface Finding {
  severity: Severity;
  source: string;
  line: number;
  /** The object, when the document got far enough to name one. */
  ref: ObjectRef | undefined;
  /** Which document of the source, for objects without a usable name. */
  document: number;
  path: string;
  message: string;
}

export interface SkippedKind {
  apiVersion: string;
  kind: string;
  count: number;
}

export interface LoadResult {
  resources: LoadedResource[];
  errors: Finding[];
  warnings: Finding[];
  skipped: SkippedKind[];
}

export interface Source {
  name: string;
  text: string;
}

export interface LoadOptions {
  /** Namespace for namespaced objects that name none (`-n` on the command line). Default: `default`. */
  defaultNamespace?: string;
}

export function formatFinding(f: Finding): string {
  const where = `${f.source}:${f.line}`;
  const what =
    f.ref !== undefined ? ` ${describeRef(f.ref)}` : f.document > 0 ? ` document ${f.document}` : '';
  return f.path === '' ? `${where}${what}: ${f.message}` : `${where}${what}: ${f.path}: ${f.message}`;
}

/** A source that is not YAML, as the error finding both loaders report. */
function cannotParse(f: ParseFailure): Finding {
  return {
    severity: 'error',
    source: f.source,
    line: f.line,
    ref: undefined,
    document: 0,
    path: '',
    message: `cannot parse: ${f.message}`,
  };
}

/** Loads every source; objects defined twice across them are errors, since one apply stores each once. */
export function loadSources(sources: readonly Source[], options: LoadOptions = {}): LoadResult {
  const result: LoadResult = { resources: [], errors: [], warnings: [], skipped: [] };
  const skipped = new Map<string, SkippedKind>();
  const seen = new Map<string, LoadedResource>();
  for (const { name, text } of sources) {
    const parsed = parseSource(name, text);
    result.errors.push(...parsed.failures.map(cannotParse));
    for (const doc of parsed.documents) {
      const outcome = checkDocument(doc, options);
      if (outcome.kind === 'skipped') {
        const key = `${outcome.apiVersion} ${outcome.kindName}`;
        const entry = skipped.get(key) ?? {
          apiVersion: outcome.apiVersion,
          kind: outcome.kindName,
          count: 0,
        };
        entry.count++;
        skipped.set(key, entry);
        continue;
      }
      for (const f of outcome.findings) (f.severity === 'error' ? result.errors : result.warnings).push(f);
      if (outcome.loaded === undefined) continue;
      const ref = refKey(outcome.loaded);
      const earlier = seen.get(ref);
      if (earlier !== undefined) {
        result.errors.push({
          severity: 'error',
          source: doc.source,
          line: doc.line,
          ref: refOfLoaded(outcome.loaded),
          document: doc.index,
          path: '',
          message: `defined twice: also at ${earlier.source}:${earlier.line}; keep one`,
        });
        continue;
      }
      seen.set(ref, outcome.loaded);
      result.resources.push(outcome.loaded);
    }
  }
  result.skipped = [...skipped.values()];
  // Within a source, report in reading order.
  const order = new Map(sources.map((s, i) => [s.name, i]));
  const byPlace = (a: Finding, b: Finding) =>
    (order.get(a.source) ?? 0) - (order.get(b.source) ?? 0) || a.line - b.line;
  result.errors.sort(byPlace);
  result.warnings.sort(byPlace);
  return result;
}

type DocumentOutcome =
  | { kind: 'skipped'; apiVersion: string; kindName: string }
  | { kind: 'checked'; loaded: LoadedResource | undefined; findings: Finding[] };

function checkDocument(doc: ParsedDocument, options: LoadOptions): DocumentOutcome {
  const value = doc.value;
  const findings: Finding[] = [];
  const fail = (path: string, message: string, segments: (string | number)[] = []): DocumentOutcome => {
    findings.push({
      severity: 'error',
      source: doc.source,
      line: doc.locate(segments),
      ref: undefined,
      document: doc.index,
      path,
      message,
    });
    return { kind: 'checked', loaded: undefined, findings };
  };
  if (!isPlainObject(value))
    return fail('', `must be an object with apiVersion, kind, metadata and spec, got ${describe(value)}`);
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '')
    return fail('apiVersion', 'is required', ['apiVersion']);
  if (typeof kind !== 'string' || kind === '') return fail('kind', 'is required', ['kind']);
  const info = findKindByApiVersion(apiVersion, kind);
  if (info === undefined) {
    const problem = unknownKindProblem(apiVersion, kind);
    if (problem === undefined) return { kind: 'skipped', apiVersion, kindName: kind };
    return fail(problem.path, problem.message, [problem.path]);
  }
  const checked = checkObject(value, info, options);
  const ref = checked.ref;
  for (const issue of checked.issues) {
    findings.push({
      severity: issue.severity,
      source: doc.source,
      line: doc.locate(issue.segments),
      ref,
      document: doc.index,
      path: issue.path,
      message: issue.message,
    });
  }
  const loaded =
    checked.resource === undefined
      ? undefined
      : {
          resource: checked.resource,
          info,
          source: doc.source,
          document: doc.index,
          get line() {
            return doc.line;
          },
        };
  return { kind: 'checked', loaded, findings };
}

/** An error when the kind should have been known (a managed API group); undefined means skip it. */
function unknownKindProblem(apiVersion: string, kind: string): { path: string; message: string } | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const sameKind = KINDS.find((k) => k.kind === kind && k.group === group);
  if (sameKind !== undefined) {
    return {
      path: 'apiVersion',
      message: `${apiVersion} is not a version of ${kind}: use ${sameKind.versions.map((v) => apiVersionOf(sameKind, v)).join(' or ')}`,
    };
  }
  if (!isManagedGroup(group) || isUnmanagedIstioKind(group, kind)) return undefined;
  const kinds = KINDS.filter((k) => k.group === group).map((k) => k.kind);
  const near = closest(kind, kinds);
  const hint = near === undefined ? `known kinds in ${group}: ${kinds.join(', ')}` : `did you mean ${near}?`;
  return { path: 'kind', message: `unknown kind ${JSON.stringify(kind)} in ${group}: ${hint}` };
}

export interface CheckedObject {
  /** The normalised resource, when it has no errors: preferred apiVersion, namespace filled in, status dropped. */
  resource: Resource | undefined;
  ref: ObjectRef | undefined;
  issues: Issue[];
}

const ENVELOPE = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

/** Checks one object of a known kind. Exported for the API server, which gets objects one at a time. */
export function checkObject(
  value: Record<string, unknown>,
  info: KindInfo,
  options: LoadOptions = {},
): CheckedObject {
  const meta = isPlainObject(value.metadata) ? value.metadata : undefined;
  const namespace = info.namespaced
    ? typeof meta?.namespace === 'string' && meta.namespace !== ''
      ? meta.namespace
      : (options.defaultNamespace ?? 'default')
    : '';
  const c = new Checker([], { namespace });
  if (meta === undefined) {
    c.error(
      value.metadata === undefined ? 'is required' : `must be an object, got ${describe(value.metadata)}`,
      'metadata',
    );
  } else {
    c.at('metadata', () => metadataSchemas[info.nameRule ?? 'dns1123-subdomain'].check(meta, c));
    if (info.fixedName !== undefined && typeof meta.name === 'string' && meta.name !== info.fixedName) {
      c.error(
        `must be "${info.fixedName}": there is one ${info.kind}, named ${info.fixedName}, got ${JSON.stringify(meta.name)}`,
        'metadata',
        'name',
      );
    }
    if (!info.namespaced && meta.namespace !== undefined && meta.namespace !== null) {
      c.error(`${info.kind} is cluster-scoped: remove metadata.namespace`, 'metadata', 'namespace');
    }
  }
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  const ref = name === undefined ? undefined : { kind: info.kind, namespace, name };
  for (const key of Object.keys(value)) {
    if (ENVELOPE.has(key) || info.topLevel?.[key] !== undefined) continue;
    c.error(
      info.spec === undefined ? 'unknown field' : 'unknown field: fields of a resource go under spec',
      key,
    );
  }
  if (info.topLevel !== undefined) {
    for (const [key, schema] of Object.entries(info.topLevel)) {
      const v = value[key];
      if (v !== undefined && v !== null) c.at(key, () => schema.check(v, c));
    }
  }
  if (value.spec === undefined || value.spec === null) {
    if (info.specRequired) c.error('is required', 'spec');
  } else if (info.spec === undefined) {
    c.error(`${info.kind} has no spec`, 'spec');
  } else {
    const spec = info.spec;
    c.at('spec', () => spec.check(value.spec, c));
  }
  if (c.omitted > 0) {
    c.issues.push({
      path: '',
      segments: [],
      severity: c.hasErrors ? 'error' : 'warning',
      message: `… and ${c.omitted} more problems (only the first ${MAX_ISSUES} of an object are listed)`,
    });
  }
  if (c.hasErrors || ref === undefined) return { resource: undefined, ref, issues: c.issues };
  return { resource: normalise(value, info, namespace), ref, issues: c.issues };
}

function normalise(value: Record<string, unknown>, info: KindInfo, namespace: string): Resource {
  const { status: _status, ...rest } = value;
  const metadata = { ...(rest.metadata as Resource['metadata']) };
  if (info.namespaced) metadata.namespace = namespace;
  return { ...rest, apiVersion: apiVersionOf(info), kind: info.kind, metadata } as Resource;
}

function refOfLoaded(l: LoadedResource): ObjectRef {
  return {
    kind: l.info.kind,
    namespace: l.resource.metadata.namespace ?? '',
    name: l.resource.metadata.name,
  };
}

function refKey(l: LoadedResource): string {
  return `${l.info.kind}/${l.resource.metadata.namespace ?? ''}/${l.resource.metadata.name}`;
}

export interface LoadedRefs {
  refs: { ref: ObjectRef; info: KindInfo; source: string; line: number }[];
  errors: Finding[];
  skipped: SkippedKind[];
}

/**
 * Only what identifies each object (kind, namespace, name), without checking specs: what
 * `alder delete -f` needs, so that an object can be deleted even when its file no longer validates.
 */
export function loadRefs(sources: readonly Source[], options: LoadOptions = {}): LoadedRefs {
  const out: LoadedRefs = { refs: [], errors: [], skipped: [] };
  const skipped = new Map<string, SkippedKind>();
  for (const { name, text } of sources) {
    const parsed = parseSource(name, text);
    out.errors.push(...parsed.failures.map(cannotParse));
    for (const doc of parsed.documents) {
      const v = doc.value;
      const fail = (path: string, message: string) =>
        out.errors.push({
          severity: 'error',
          source: doc.source,
          line: doc.locate([path]),
          ref: undefined,
          document: doc.index,
          path,
          message,
        });
      if (!isPlainObject(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string') {
        fail('', 'must be an object with apiVersion and kind');
        continue;
      }
      const info = findKindByApiVersion(v.apiVersion, v.kind);
      if (info === undefined) {
        const problem = unknownKindProblem(v.apiVersion, v.kind);
        if (problem !== undefined) fail(problem.path, problem.message);
        else {
          const key = `${v.apiVersion} ${v.kind}`;
          const entry = skipped.get(key) ?? { apiVersion: v.apiVersion, kind: v.kind, count: 0 };
          entry.count++;
          skipped.set(key, entry);
        }
        continue;
      }
      const meta = isPlainObject(v.metadata) ? v.metadata : {};
      if (typeof meta.name !== 'string' || meta.name === '') {
        fail('metadata', 'metadata.name is required');
        continue;
      }
      const namespace = !info.namespaced
        ? ''
        : typeof meta.namespace === 'string' && meta.namespace !== ''
          ? meta.namespace
          : (options.defaultNamespace ?? 'default');
      out.refs.push({
        ref: { kind: info.kind, namespace, name: meta.name },
        info,
        source: doc.source,
        get line() {
          return doc.line;
        },
      });
    }
  }
  out.skipped = [...skipped.values()];
  return out;
}
