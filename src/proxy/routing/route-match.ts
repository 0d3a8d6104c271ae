// One `match` block of an HTTP route compiled into a list of conditions (all must hold), each able
// to test a request and to say why it failed. sourceLabels and sourceNamespace describe this proxy,
// so they are decided here once: a block that can never match is kept only for explanations.

import type {
  HeaderMatch,
  ProxyIdentity,
  QueryParamMatch,
  RouteMatch,
  StringMatch,
} from '../../wire/index.ts';
import { headerValue, type RequestView } from './route-request.ts';
import { sourceFailure } from './source-match.ts';
import { StringMatcher } from './string-match.ts';

const Kind = {
  Never: 0,
  Port: 1,
  Uri: 2,
  Method: 3,
  Authority: 4,
  Scheme: 5,
  /** A header's value matches. */
  Header: 6,
  HeaderPresent: 7,
  /** withoutHeaders with a value: a missing header is tested as "" (Istio's treat_missing_header_as_empty). */
  HeaderNot: 8,
  /** withoutHeaders without a value: the header must be absent. */
  HeaderAbsent: 9,
  Query: 10,
  QueryPresent: 11,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * One condition of a match block. `test` is what select() runs; `whyNot` is only for explain. One
 * class for every kind keeps the scan's call site monomorphic (measured: see StringMatcher).
 */
export class Condition {
  readonly #kind: Kind;
  readonly #sm: StringMatcher | undefined;
  /** Header or query parameter name. */
  readonly #name: string;
  readonly #port: number;

  constructor(kind: Kind, sm?: StringMatcher, name = '', port = 0) {
    this.#kind = kind;
    this.#sm = sm;
    this.#name = name;
    this.#port = port;
  }

  test(v: RequestView): boolean {
    const sm = this.#sm as StringMatcher;
    switch (this.#kind) {
      case Kind.Port:
        return v.req.port === this.#port;
      case Kind.Uri:
        return sm.test(v.pathOnly);
      case Kind.Method:
        return sm.test(v.req.method);
      case Kind.Authority:
        return sm.test(v.req.authority);
      case Kind.Scheme:
        return sm.test(v.req.scheme);
      case Kind.Header: {
        const got = headerValue(v.req, this.#name);
        return got !== undefined && sm.test(got);
      }
      case Kind.HeaderPresent:
        return headerValue(v.req, this.#name) !== undefined;
      case Kind.HeaderNot:
        return !sm.test(headerValue(v.req, this.#name) ?? '');
      case Kind.HeaderAbsent:
        return headerValue(v.req, this.#name) === undefined;
      case Kind.Query: {
        const got = v.query(this.#name);
        return got !== undefined && sm.test(got);
      }
      case Kind.QueryPresent:
        return v.query(this.#name) !== undefined;
      default:
        return false;
    }
  }

  /** Why the request fails this condition: `header end-user: missing`. */
  whyNot(v: RequestView): string {
    const sm = this.#sm as StringMatcher;
    const name = this.#name;
    switch (this.#kind) {
      case Kind.Port:
        return `port: request port ${v.req.port} is not ${this.#port}`;
      case Kind.Uri:
        return `uri: ${sm.whyNot(v.pathOnly)}`;
      case Kind.Method:
        return `method: ${sm.whyNot(v.req.method)}`;
      case Kind.Authority:
        return `authority: ${sm.whyNot(v.req.authority)}`;
      case Kind.Scheme:
        return `scheme: ${sm.whyNot(v.req.scheme)}`;
      case Kind.Header: {
        const got = headerValue(v.req, name);
        return got === undefined
          ? `header ${name}: missing (want ${sm.description})`
          : `header ${name}: ${sm.whyNot(got)}`;
      }
      case Kind.HeaderPresent:
        return `header ${name}: missing`;
      case Kind.HeaderNot: {
        const got = headerValue(v.req, name);
        const shown = got === undefined ? 'missing (tested as "")' : JSON.stringify(got);
        return `withoutHeaders ${name}: ${shown} matches ${sm.description}`;
      }
      case Kind.HeaderAbsent:
        return `withoutHeaders ${name}: must be absent, got ${JSON.stringify(headerValue(v.req, name))}`;
      case Kind.Query: {
        const got = v.query(name);
        return got === undefined
          ? `queryParams ${name}: missing (want ${sm.description})`
          : `queryParams ${name}: ${sm.whyNot(got)}`;
      }
      case Kind.QueryPresent:
        return `queryParams ${name}: missing`;
      default:
        return 'invalid (see the compile error)';
    }
  }
}

export interface CompiledMatch {
  /** The block's position in the route's `matches`. */
  readonly index: number;
  readonly name: string | undefined;
  /** Cheapest first: port, uri, method, authority, scheme, headers, queryParams. */
  readonly conditions: readonly Condition[];
  /** Set when sourceLabels or sourceNamespace exclude this proxy: the block never matches. */
  readonly sourceFailure: string | undefined;
  /** The uri condition as written, which decides what a prefix rewrite replaces. */
  readonly uri: StringMatch | undefined;
  readonly ignoreUriCase: boolean;
}

/** Reports a condition that cannot be compiled (a regex JavaScript cannot run) under its field path. */
export type ProblemSink = (field: string, err: unknown) => void;

export function compileRouteMatch(
  m: RouteMatch,
  index: number,
  self: ProxyIdentity,
  problem: ProblemSink,
): CompiledMatch {
  const conditions: Condition[] = [];
  const attempt = (field: string, build: () => Condition) => {
    try {
      conditions.push(build());
    } catch (err) {
      problem(field, err);
      conditions.push(new Condition(Kind.Never));
    }
  };
  if (m.port !== undefined) conditions.push(new Condition(Kind.Port, undefined, '', m.port));
  const uri = m.uri;
  if (uri !== undefined)
    attempt('uri', () => new Condition(Kind.Uri, new StringMatcher(uri, m.ignoreUriCase === true)));
  const fields = [
    ['method', m.method, Kind.Method],
    ['authority', m.authority, Kind.Authority],
    ['scheme', m.scheme, Kind.Scheme],
  ] as const;
  for (const [field, sm, kind] of fields) {
    if (sm !== undefined) attempt(field, () => new Condition(kind, new StringMatcher(sm)));
  }
  m.headers?.forEach((h, k) => {
    attempt(`headers[${k}]`, () => headerCondition(h));
  });
  m.queryParams?.forEach((q, k) => {
    attempt(`queryParams[${k}]`, () => queryCondition(q));
  });
  return {
    index,
    name: m.name,
    conditions,
    sourceFailure: sourceFailure(m, self),
    uri,
    ignoreUriCase: m.ignoreUriCase === true,
  };
}

/** True when every condition holds (the block's source check is the caller's, done at compile time). */
export function matchesAll(conditions: readonly Condition[], view: RequestView): boolean {
  for (let k = 0; k < conditions.length; k++) if (!(conditions[k] as Condition).test(view)) return false;
  return true;
}

/** The first failing condition's reason, or undefined when all hold. */
export function firstFailure(conditions: readonly Condition[], view: RequestView): string | undefined {
  for (const c of conditions) if (!c.test(view)) return c.whyNot(view);
  return undefined;
}

/** Istio turns an absent value and the regex `*` into Envoy's present_match. */
function isPresentMatch(value: StringMatch | undefined): value is undefined {
  return value === undefined || ('regex' in value && value.regex === '*');
}

function headerCondition(h: HeaderMatch): Condition {
  if (isPresentMatch(h.value))
    return new Condition(h.isInverted ? Kind.HeaderAbsent : Kind.HeaderPresent, undefined, h.name);
  return new Condition(h.isInverted ? Kind.HeaderNot : Kind.Header, new StringMatcher(h.value), h.name);
}

function queryCondition(q: QueryParamMatch): Condition {
  if (isPresentMatch(q.value)) return new Condition(Kind.QueryPresent, undefined, q.name);
  return new Condition(Kind.Query, new StringMatcher(q.value), q.name);
}
