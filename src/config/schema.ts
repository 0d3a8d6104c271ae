// A small validator language for Istio-style resources: each schema checks a value, records every
// problem with its field path (never stopping at the first), and carries the TypeScript type of what
// it accepts. Kind modules (src/config/kinds) build their specs from these pieces. This module holds
// the composite schemas and re-exports the core (checker.ts) and the scalars (scalars.ts).

import { hasNewError, type Infer, isPlainObject, type Refine, type Schema, typeError } from './checker.ts';
import { closest } from './suggest.ts';

export * from './checker.ts';
export * from './scalars.ts';

export interface ArrayOptions<T> {
  minItems?: number;
  maxItems?: number;
  refine?: Refine<T[]>;
}

export function arr<T>(item: Schema<T>, options: ArrayOptions<T> = {}): Schema<T[]> {
  const { minItems, maxItems, refine } = options;
  const expected = `a list`;
  return {
    expected,
    check(value, c) {
      if (!Array.isArray(value)) return typeError(c, expected, value);
      if (minItems !== undefined && value.length < minItems) {
        c.error(minItems === 1 ? 'must have at least one item' : `must have at least ${minItems} items`);
        return false;
      }
      if (maxItems !== undefined && value.length > maxItems) {
        c.error(`must have at most ${maxItems} items, got ${value.length}`);
        return false;
      }
      let ok = true;
      for (let i = 0; i < value.length; i++) {
        c.at(i, () => {
          if (!item.check(value[i], c)) ok = false;
        });
      }
      if (!ok || refine === undefined) return ok;
      const before = c.issueCount;
      refine(value as T[], c);
      return !hasNewError(c, before);
    },
  };
}

export interface RecordOptions<V> {
  key?: Schema<string>;
  refine?: Refine<Record<string, V>>;
}

/** A map with string keys, such as labels or a WorkloadEntry's ports. */
export function record<V>(valueSchema: Schema<V>, options: RecordOptions<V> = {}): Schema<Record<string, V>> {
  const { key, refine } = options;
  const expected = 'a map';
  return {
    expected,
    check(value, c) {
      if (!isPlainObject(value)) return typeError(c, expected, value);
      let ok = true;
      for (const k of Object.keys(value)) {
        c.at(k, () => {
          if (key !== undefined && !key.check(k, c)) ok = false;
          if (!valueSchema.check(value[k], c)) ok = false;
        });
      }
      if (!ok || refine === undefined) return ok;
      const before = c.issueCount;
      refine(value as Record<string, V>, c);
      return !hasNewError(c, before);
    },
  };
}

export type Fields = Record<string, Schema<unknown>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type ObjectOf<F extends Fields, R extends keyof F> = Simplify<
  { [K in R]: Infer<F[K]> } & { [K in Exclude<keyof F, R>]?: Infer<F[K]> }
>;

export interface ObjectOptions<F extends Fields, R extends keyof F> {
  required?: readonly R[];
  /** Groups of fields of which at most one may be set (protobuf `oneof`). */
  oneOf?: readonly (readonly (keyof F & string)[])[];
  /** Runs after every field checked out; sees the typed object. */
  refine?: Refine<ObjectOf<F, R>>;
  /** Words for the type in messages: "an HTTPRoute". */
  name?: string;
}

/**
 * An object with known fields. An unknown field is an error naming it; `null` counts as absent,
 * as Kubernetes reads it. The refinement runs only when every field checked out.
 */
export function obj<F extends Fields, R extends keyof F & string = never>(
  fields: F,
  options: ObjectOptions<F, R> = {},
): Schema<ObjectOf<F, R>> {
  const { required = [], oneOf = [], refine } = options;
  const expected = options.name ?? 'an object';
  const known = new Map<string, Schema<unknown>>(Object.entries(fields));
  return {
    expected,
    check(value, c) {
      if (!isPlainObject(value)) return typeError(c, expected, value);
      let ok = true;
      for (const k in value) {
        const v = value[k];
        const schema = known.get(k);
        if (schema === undefined) {
          c.error(`unknown field${suggest(k, known)}`, k);
          ok = false;
          continue;
        }
        if (v === null || v === undefined) continue;
        c.at(k, () => {
          if (!schema.check(v, c)) ok = false;
        });
      }
      for (const k of required) {
        if (value[k] === undefined || value[k] === null) {
          c.error('is required', k);
          ok = false;
        }
      }
      for (const group of oneOf) {
        const set = group.filter((k) => value[k] !== undefined && value[k] !== null);
        if (set.length > 1) {
          c.error(`only one of ${group.join(', ')} may be set, got ${set.join(' and ')}`);
          ok = false;
        }
      }
      if (!ok || refine === undefined) return ok;
      const before = c.issueCount;
      refine(value as ObjectOf<F, R>, c);
      return !hasNewError(c, before);
    },
  };
}

/** Accepts any JSON value, unchecked: for opaque fields Alder stores but does not read. */
export function opaque(): Schema<unknown> {
  return { expected: 'any value', check: () => true };
}

/** A schema chosen at check time, for recursive shapes. */
export function lazy<T>(get: () => Schema<T>): Schema<T> {
  return {
    get expected() {
      return get().expected;
    },
    check: (value, c) => get().check(value, c),
  };
}

/**
 * Accepts the value as `schema` does and warns that Alder does not act on it yet, so that Istio
 * config loads unchanged while users learn what is ignored.
 */
export function notImplemented<T>(schema: Schema<T>, what: string): Schema<T> {
  return {
    expected: schema.expected,
    check(value, c) {
      const ok = schema.check(value, c);
      if (ok) c.warn(`accepted but not implemented by Alder yet: ${what}`);
      return ok;
    },
  };
}

/** ` (did you mean "hosts"?)` when a known field is one or two edits away. */
function suggest(name: string, known: Map<string, unknown>): string {
  const best = closest(name, known.keys());
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
