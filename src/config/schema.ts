// A small validator language for Istio-style resources: each schema checks a value, records every
// problem with its field path (never stopping at the first), and carries the TypeScript type of what
// it accepts. Kind modules (src/config/kinds) build their specs from these pieces.

import { parseDurationMs } from './duration.ts';
import { closest } from './suggest.ts';

export type Severity = 'error' | 'warning';

/** One problem found in a document: `path` is the field path as users write it (`spec.http[0].timeout`). */
export interface Issue {
  path: string;
  message: string;
  severity: Severity;
  /** The same path as segments, to find the line in the source. */
  segments: (string | number)[];
}

/** What a check may need to know about the object it is in. */
export interface CheckContext {
  /** The namespace of the object being checked ('' when cluster-scoped). */
  namespace: string;
}

/** Collects issues while a value is walked; keeps the current field path as a stack. */
export class Checker {
  readonly issues: Issue[] = [];
  readonly context: CheckContext;
  readonly #segments: (string | number)[] = [];

  constructor(root: (string | number)[] = [], context: CheckContext = { namespace: 'default' }) {
    this.#segments.push(...root);
    this.context = context;
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** Runs `fn` with `segment` appended to the current path. */
  at<T>(segment: string | number, fn: () => T): T {
    this.#segments.push(segment);
    try {
      return fn();
    } finally {
      this.#segments.pop();
    }
  }

  /** Reports an error at the current path, or at a child of it. */
  error(message: string, ...child: (string | number)[]): void {
    this.#add('error', message, child);
  }

  warn(message: string, ...child: (string | number)[]): void {
    this.#add('warning', message, child);
  }

  #add(severity: Severity, message: string, child: (string | number)[]): void {
    const segments = child.length === 0 ? [...this.#segments] : [...this.#segments, ...child];
    this.issues.push({ path: formatPath(segments), message, severity, segments });
  }
}

export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** A validator for values of type T. `check` returns false when it reported an error for this value. */
export interface Schema<T> {
  readonly expected: string;
  check(value: unknown, c: Checker): boolean;
  /** Phantom: the accepted type, for `Infer`. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Refine<T> = (value: T, c: Checker) => void;

/** Shows a value briefly in a message: `got "abc"`, `got 120`, `got a list`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case 'object':
      return 'an object';
    default:
      return String(value);
  }
}

function typeError(c: Checker, expected: string, value: unknown): false {
  c.error(`must be ${expected}, got ${describe(value)}`);
  return false;
}

export interface StringOptions {
  enum?: readonly string[];
  pattern?: RegExp;
  /** Says in words what `pattern` wants: "a DNS-1123 label". */
  patternHint?: string;
  minLength?: number;
  maxLength?: number;
  refine?: Refine<string>;
}

export function str<const E extends string = string>(
  options: StringOptions & { enum?: readonly E[] } = {},
): Schema<string extends E ? string : E> {
  const { pattern, patternHint, minLength, maxLength, refine } = options;
  const allowed = options.enum === undefined ? undefined : new Set<string>(options.enum);
  const expected = allowed === undefined ? 'a string' : `one of ${[...allowed].join(', ')}`;
  return {
    expected,
    check(value, c) {
      if (typeof value !== 'string') return typeError(c, expected, value);
      if (allowed !== undefined && !allowed.has(value)) {
        c.error(`must be one of ${[...allowed].join(', ')}, got ${describe(value)}`);
        return false;
      }
      if (minLength !== undefined && value.length < minLength) {
        c.error(minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters long`);
        return false;
      }
      if (maxLength !== undefined && value.length > maxLength) {
        c.error(`must be at most ${maxLength} characters long, got ${value.length}`);
        return false;
      }
      if (pattern !== undefined && !pattern.test(value)) {
        c.error(`must be ${patternHint ?? `a string matching ${pattern.source}`}, got ${describe(value)}`);
        return false;
      }
      if (refine === undefined) return true;
      const before = c.issues.length;
      refine(value, c);
      return !hasNewError(c, before);
    },
  };
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** Minimum that the value must stay strictly above. */
  exclusiveMin?: number;
  refine?: Refine<number>;
}

function numberSchema(isInteger: boolean, options: NumberOptions): Schema<number> {
  const { min, max, exclusiveMin, refine } = options;
  const expected = isInteger ? 'an integer' : 'a number';
  return {
    expected,
    check(value, c) {
      if (typeof value !== 'number' || !Number.isFinite(value) || (isInteger && !Number.isInteger(value))) {
        return typeError(c, expected, value);
      }
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        c.error(`${rangeText(min, max)}, got ${value}`);
        return false;
      }
      if (exclusiveMin !== undefined && value <= exclusiveMin) {
        c.error(`must be greater than ${exclusiveMin}, got ${value}`);
        return false;
      }
      if (refine === undefined) return true;
      const before = c.issues.length;
      refine(value, c);
      return !hasNewError(c, before);
    },
  };
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `must be between ${min} and ${max}`;
  if (min !== undefined) return `must be at least ${min}`;
  return `must be at most ${max}`;
}

export function int(options: NumberOptions = {}): Schema<number> {
  return numberSchema(true, options);
}

export function num(options: NumberOptions = {}): Schema<number> {
  return numberSchema(false, options);
}

export function bool(): Schema<boolean> {
  return {
    expected: 'true or false',
    check(value, c) {
      return typeof value === 'boolean' || typeError(c, 'true or false', value);
    },
  };
}

/** Kubernetes' IntOrString (Service targetPort). */
export function intOrString(
  options: { int?: NumberOptions; str?: StringOptions } = {},
): Schema<number | string> {
  const asInt = int(options.int);
  const asStr = str(options.str);
  return {
    expected: 'an integer or a string',
    check(value, c) {
      if (typeof value === 'number') return asInt.check(value, c);
      if (typeof value === 'string') return asStr.check(value, c);
      return typeError(c, 'an integer or a string', value);
    },
  };
}

export interface DurationOptions {
  /** Smallest allowed value in milliseconds, inclusive. */
  minMs?: number;
  maxMs?: number;
}

/** A duration string ("10s", "250ms", "1m30s"), checked for syntax and range. */
export function duration(options: DurationOptions = {}): Schema<string> {
  const { minMs, maxMs } = options;
  const expected = 'a duration such as "10s" or "250ms"';
  return {
    expected,
    check(value, c) {
      if (typeof value !== 'string') return typeError(c, expected, value);
      const ms = parseDurationMs(value);
      if (ms === undefined) return typeError(c, expected, value);
      if (minMs !== undefined && ms < minMs) {
        c.error(`must be at least ${minMs === 1 ? '1ms' : `${minMs}ms`}, got ${describe(value)}`);
        return false;
      }
      if (maxMs !== undefined && ms > maxMs) {
        c.error(`must be at most ${maxMs}ms, got ${describe(value)}`);
        return false;
      }
      return true;
    },
  };
}

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
      const before = c.issues.length;
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
      const before = c.issues.length;
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
      const before = c.issues.length;
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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasNewError(c: Checker, before: number): boolean {
  for (let i = before; i < c.issues.length; i++) if (c.issues[i]?.severity === 'error') return true;
  return false;
}

/** ` (did you mean "hosts"?)` when a known field is one or two edits away. */
function suggest(name: string, known: Map<string, unknown>): string {
  const best = closest(name, known.keys());
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
