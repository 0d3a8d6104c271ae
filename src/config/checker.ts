// The core of the validator language: the Checker that collects issues with their field paths,
// the Schema interface every builder returns, and the helpers builders share.

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

/**
 * Issues kept per checked object. A hostile or generated document can hold millions of bad values:
 * the first ones are listed, the rest only counted, so checking stays bounded in memory.
 */
export const MAX_ISSUES = 100;

/** Collects issues while a value is walked; keeps the current field path as a stack. */
export class Checker {
  /** The first MAX_ISSUES issues; `omitted` counts the rest. */
  readonly issues: Issue[] = [];
  readonly context: CheckContext;
  readonly #segments: (string | number)[] = [];
  /** Issues reported so far, kept or not: what `hasNewError` measures from. */
  issueCount = 0;
  /** Issues reported past MAX_ISSUES and not kept. */
  omitted = 0;
  #lastErrorAt = -1;

  constructor(root: (string | number)[] = [], context: CheckContext = { namespace: 'default' }) {
    this.#segments.push(...root);
    this.context = context;
  }

  get hasErrors(): boolean {
    return this.#lastErrorAt >= 0;
  }

  /** Whether an error was reported at or after the `issueCount` `before`. */
  hasErrorSince(before: number): boolean {
    return this.#lastErrorAt >= before;
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
    if (severity === 'error') this.#lastErrorAt = this.issueCount;
    this.issueCount++;
    if (this.issues.length >= MAX_ISSUES) {
      this.omitted++;
      return;
    }
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

export type Refine<T> = (value: T, c: Checker) => void;

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

/** Reports that `value` is not what a schema expects; returns false for `check` to pass on. */
export function typeError(c: Checker, expected: string, value: unknown): false {
  c.error(`must be ${expected}, got ${describe(value)}`);
  return false;
}

/** Whether a refinement added an error since `before` (a `c.issueCount`). */
export function hasNewError(c: Checker, before: number): boolean {
  return c.hasErrorSince(before);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
