// Size limits and the few policy switches of the HTTP/1 codec. Resolve them once per snapshot with
// `http1Limits()` and hand the frozen result to every parser; parsers never merge options per connection.

import { DEFAULT_METHODS } from './methods.ts';

/** Envoy's `headers_with_underscores_action`, for request header (and trailer) names holding `_`. */
export type UnderscoreAction = 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';

export interface Http1Limits {
  /** Request line (or status line) bytes, CRLF excluded. Over it: 414 in the target, else 400. */
  readonly maxStartLineBytes: number;
  /** Bytes of a request method. Over it: 501 method-too-long (RFC 9112 §3). */
  readonly maxMethodBytes: number;
  /** Request methods forwarded (case-sensitive); any other: 501 method-unknown. Built by methodSet(). */
  readonly methods: ReadonlySet<string>;
  /** One header or trailer field line, CRLF excluded. Over it: 431. */
  readonly maxHeaderLineBytes: number;
  /** Whole head (start line, fields, CRLFs), or a whole trailer section. Over it: 431. */
  readonly maxHeaderSectionBytes: number;
  /** Field lines in a header or trailer section. Over it: 431. */
  readonly maxHeaders: number;
  /** Content-Length or chunked total; Number.MAX_SAFE_INTEGER means no limit. Over it: 413. */
  readonly maxBodyBytes: number;
  /** Bytes of chunk extensions on one chunk-size line. Over it: 400 chunk-ext-too-long. */
  readonly maxChunkExtBytes: number;
  /**
   * Request header names with `_` (CGI-style apps read `X_User` as `X-User`): refused (400) by
   * default, or dropped, or allowed. Names that spell a framing header with `_` are refused always.
   */
  readonly headersWithUnderscoresAction: UnderscoreAction;
}

/** Limits, or a function giving the ones current when a message starts (request parsers only). */
export type Http1LimitsSource = Http1Limits | (() => Http1Limits);

export const DEFAULT_HTTP1_LIMITS: Http1Limits = Object.freeze({
  maxStartLineBytes: 8 * 1024,
  maxMethodBytes: 32,
  methods: DEFAULT_METHODS,
  maxHeaderLineBytes: 8 * 1024,
  maxHeaderSectionBytes: 60 * 1024,
  maxHeaders: 100,
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxChunkExtBytes: 1024,
  headersWithUnderscoresAction: 'REJECT_REQUEST',
} satisfies Http1Limits);

const SIZES = [
  'maxStartLineBytes',
  'maxMethodBytes',
  'maxHeaderLineBytes',
  'maxHeaderSectionBytes',
  'maxHeaders',
  'maxBodyBytes',
  'maxChunkExtBytes',
] as const satisfies readonly (keyof Http1Limits)[];

/** Defaults overlaid with `overrides`; throws a TypeError naming the option when one is out of range. */
export function http1Limits(overrides: Partial<Http1Limits> = {}): Http1Limits {
  const limits = { ...DEFAULT_HTTP1_LIMITS, ...overrides };
  for (const key of SIZES) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`http1 limits: ${key} must be a positive safe integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
