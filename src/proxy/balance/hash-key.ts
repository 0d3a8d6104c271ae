// The request's key under a RING_HASH or MAGLEV policy (Istio's consistentHash: httpHeaderName,
// httpCookie, useSourceIp, httpQueryParameterName). The HTTP layer calls it and hands the key to
// Balancer.pick; it adds the Set-Cookie this returns when Envoy would generate the cookie.

import type { HashKey } from '../../wire/index.ts';
import { hashHex } from './hash.ts';

/** What hashing may read of a request. */
export interface HashRequestView {
  /** A header's value by lower-case name (the first, when repeated). */
  header(name: string): string | undefined;
  /** The downstream peer's IP address, without the port. */
  sourceIp: string;
  /** The raw query string, without `?` ('' when none). */
  query: string;
  /** The downstream connection's `ip:port` pair; seeds a generated cookie's value. */
  connection?: { remote: string; local: string };
}

export interface HashKeyResult {
  /** Undefined when the request carries none: the balancer then picks at random, as Envoy does. */
  hashKey: string | undefined;
  /** A Set-Cookie value to add to the response (a cookie policy with a TTL, and no cookie sent). */
  setCookie: string | undefined;
}

const NO_KEY: HashKeyResult = Object.freeze({ hashKey: undefined, setCookie: undefined });

export function hashKeyOf(hashOn: HashKey, view: HashRequestView): HashKeyResult {
  if ('header' in hashOn) return keyed(view.header(hashOn.header));
  if ('sourceIp' in hashOn) return keyed(view.sourceIp);
  if ('queryParameter' in hashOn) return keyed(queryParameter(view.query, hashOn.queryParameter));
  const { name, path, ttlMs } = hashOn.cookie;
  const sent = cookieValue(view.header('cookie'), name);
  if (sent !== undefined) return keyed(sent);
  // Envoy generates the cookie only when a TTL is configured; a TTL of 0 makes a session cookie.
  if (ttlMs === undefined) return NO_KEY;
  const seed = view.connection === undefined ? view.sourceIp : view.connection.remote + view.connection.local;
  const value = hashHex(seed);
  return { hashKey: value, setCookie: setCookieValue(name, value, path, ttlMs) };
}

function keyed(value: string | undefined): HashKeyResult {
  return value === undefined ? NO_KEY : { hashKey: value, setCookie: undefined };
}

/** Envoy's makeSetCookieValue: `name="value"; Max-Age=s; Path=p; HttpOnly`. */
export function setCookieValue(name: string, value: string, path: string | undefined, ttlMs: number): string {
  let cookie = `${name}="${value}"`;
  const maxAge = Math.floor(ttlMs / 1000);
  if (maxAge > 0) cookie += `; Max-Age=${maxAge}`;
  if (path !== undefined && path !== '') cookie += `; Path=${path}`;
  return `${cookie}; HttpOnly`;
}

/** The named cookie's value from a Cookie header, double quotes removed (Envoy's parseCookieValue). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

/** The first value of a query parameter, as sent (not percent-decoded); '' when it has no `=`. */
export function queryParameter(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}
