// Scalar schemas: strings (enums, patterns), numbers, booleans, Kubernetes' IntOrString and
// Go-style durations. Composite schemas (lists, maps, objects) are in schema.ts.

import { describe, hasNewError, type Refine, type Schema, typeError } from './checker.ts';
import { parseDurationMs } from './duration.ts';

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
      const before = c.issueCount;
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
      const before = c.issueCount;
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
