// A route's CORS policy, compiled once and applied as Envoy's CORS filter does (cors_filter.cc):
// answer preflights locally, add allow-origin (the request's Origin), credentials and expose-headers
// to the responses of allowed origins. The router calls preflight() before forwarding.

import type { CorsPolicy } from '../../wire/index.ts';
import { headerValue, type RouteRequest } from './route-request.ts';
import { compileStringMatch, type StringMatcher } from './string-match.ts';

/** What to do with a preflight: reply 200 with these headers, or forward it to the app. */
export type CorsPreflight = { kind: 'reply'; status: 200; headers: readonly string[] } | { kind: 'forward' };

export interface CompiledCors {
  /** OPTIONS with a non-empty Origin and Access-Control-Request-Method. */
  isPreflight(req: RouteRequest): boolean;
  /** An allowOrigins entry matches the origin, or matches `*` itself (then any origin is allowed). */
  isOriginAllowed(origin: string): boolean;
  /** Call for a preflight only. An unmatched origin is forwarded (FORWARD) or answered without allow-origin (IGNORE). */
  preflight(req: RouteRequest): CorsPreflight;
  /** Headers to set (replacing) on the response to `req`; empty when it is not from an allowed origin. */
  responseHeaders(req: RouteRequest): readonly string[];
}

const FORWARD: CorsPreflight = { kind: 'forward' };
const NONE: readonly string[] = [];

export function compileCors(policy: CorsPolicy): CompiledCors {
  const origins: StringMatcher[] = policy.allowOrigins.map((m) => compileStringMatch(m));
  const allowsAny = origins.some((m) => m.test('*'));
  const allowMethods = policy.allowMethods.join(',');
  const allowHeaders = policy.allowHeaders.join(',');
  const exposeHeaders = policy.exposeHeaders.join(',');
  const maxAge = policy.maxAgeSeconds === undefined ? '' : String(policy.maxAgeSeconds);
  const credentials = policy.allowCredentials === true;
  const isOriginAllowed = (origin: string) => allowsAny || origins.some((m) => m.test(origin));

  return {
    isPreflight(req) {
      return (
        req.method === 'OPTIONS' &&
        nonEmpty(headerValue(req, 'origin')) &&
        nonEmpty(headerValue(req, 'access-control-request-method'))
      );
    },
    isOriginAllowed,
    preflight(req) {
      const origin = headerValue(req, 'origin') ?? '';
      const allowed = isOriginAllowed(origin);
      if (!allowed && policy.unmatchedPreflights === 'FORWARD') return FORWARD;
      const h: string[] = [];
      if (allowed) h.push('access-control-allow-origin', origin);
      if (credentials) h.push('access-control-allow-credentials', 'true');
      if (allowMethods !== '') {
        const echo = allowMethods === '*';
        h.push(
          'access-control-allow-methods',
          echo ? (headerValue(req, 'access-control-request-method') ?? '') : allowMethods,
        );
      }
      if (allowHeaders !== '') {
        const echo = allowHeaders === '*';
        h.push(
          'access-control-allow-headers',
          echo ? (headerValue(req, 'access-control-request-headers') ?? '') : allowHeaders,
        );
      }
      if (maxAge !== '') h.push('access-control-max-age', maxAge);
      return { kind: 'reply', status: 200, headers: h };
    },
    responseHeaders(req) {
      const origin = headerValue(req, 'origin');
      if (origin === undefined || origin === '' || !isOriginAllowed(origin)) return NONE;
      const h = ['access-control-allow-origin', origin];
      if (credentials) h.push('access-control-allow-credentials', 'true');
      if (exposeHeaders !== '') h.push('access-control-expose-headers', exposeHeaders);
      return h;
    },
  };
}

function nonEmpty(v: string | undefined): boolean {
  return v !== undefined && v !== '';
}
