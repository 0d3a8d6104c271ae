// How a store backend turns a written object into its stored form: store-managed metadata stamped on,
// canonical JSON, and the content comparisons behind `apply`'s 'unchanged' and `generation`.
// Backend-neutral: the SQLite store uses it today, an etcd store can reuse it.

import { randomUUID } from 'node:crypto';
import type { Resource } from '../../config/index.ts';
import type { StoredObject } from './store.ts';

/** JSON with every object's keys sorted, so equal content always gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? sortKeys(v) : v));
}

/** True when labels, annotations, spec and every other field match, store-managed metadata aside. */
export function isSameContent(a: Resource, b: Resource): boolean {
  return canonicalJson(userContent(a)) === canonicalJson(userContent(b));
}

/**
 * The object as it will be stored at `revision`: uid and creationTimestamp kept from `previous` (or
 * made now), generation bumped only when something outside metadata changed.
 */
export function stampObject(
  object: Resource,
  previous: StoredObject | undefined,
  revision: number,
): StoredObject {
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _gen,
    ...meta
  } = object.metadata;
  const isSpecSame =
    previous !== undefined &&
    canonicalJson(withoutMetadata(previous)) === canonicalJson(withoutMetadata(object));
  return {
    ...object,
    metadata: {
      ...meta,
      resourceVersion: String(revision),
      uid: previous?.metadata.uid ?? randomUUID(),
      creationTimestamp: previous?.metadata.creationTimestamp ?? rfc3339Seconds(new Date()),
      generation: previous === undefined ? 1 : previous.metadata.generation + (isSpecSame ? 0 : 1),
    },
  };
}

/** `stored` with its resourceVersion moved to `revision`, as a DELETED event carries it. */
export function atRevision(stored: StoredObject, revision: number): StoredObject {
  return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(revision) } };
}

function userContent(r: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _gen, ...meta } = r.metadata;
  return { ...r, metadata: meta };
}

function withoutMetadata(r: Resource): Record<string, unknown> {
  const { metadata: _metadata, ...rest } = r;
  return rest;
}

function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortKeys(v: Record<string, unknown>): Record<string, unknown> {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(v).sort()) sorted[key] = v[key];
  return sorted;
}
