// Size limits and the few policy switches of the HTTP/1 codec. Resolve them once per snapshot with
// `http1Limits()` and hand the frozen result to every parser; parsers never merge options per connection.

export interface Http1Limits {
  /** Request line (or status line) bytes, CRLF excluded. Over it: 414 in the target, else 400. */
  readonly maxStartLineBytes: number;
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
  /** Accept `_` in header names. Off by default: CGI-style apps read `X_User` as `X-User`. */
  readonly allowUnderscoreInHeaderNames: boolean;
}

export const DEFAULT_HTTP1_LIMITS: Http1Limits = Object.freeze({
  maxStartLineBytes: 8 * 1024,
  maxHeaderLineBytes: 8 * 1024,
  maxHeaderSectionBytes: 60 * 1024,
  maxHeaders: 100,
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxChunkExtBytes: 1024,
  allowUnderscoreInHeaderNames: false,
} satisfies Http1Limits);

/** Defaults overlaid with `overrides`; throws a TypeError naming the option when one is out of range. */
export function http1Limits(overrides: Partial<Http1Limits> = {}): Http1Limits {
  const limits = { ...DEFAULT_HTTP1_LIMITS, ...overrides };
  for (const key of Object.keys(limits) as (keyof Http1Limits)[]) {
    const value = limits[key];
    if (typeof value === 'boolean') continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`http1 limits: ${key} must be a positive safe integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
