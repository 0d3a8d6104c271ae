// Istio's HTTPRetry (a VirtualService route's `retries`), checked as agent.ValidateHTTPRetry does:
// attempts not negative, no settings when attempts is 0, `retryOn` made of Envoy retry conditions
// or HTTP status codes, durations of at least 1ms.

import { bool, type Infer, int, obj, str } from '../schema.ts';
import { istioDuration } from './istio-duration.ts';

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on conditions. */
export const RETRY_CONDITIONS = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;
const RETRY_ON: ReadonlySet<string> = new Set(RETRY_CONDITIONS);

// The status codes Go's net/http names (Istio accepts a code when http.StatusText knows it).
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function isRetryPolicy(policy: string): boolean {
  if (RETRY_ON.has(policy)) return true;
  return /^[+-]?\d+$/.test(policy) && KNOWN_STATUS.has(Number(policy));
}

const INT32_MAX = 2147483647;

export const httpRetry = obj(
  {
    attempts: int({ min: 0, max: INT32_MAX }),
    perTryTimeout: istioDuration(),
    retryOn: str({
      refine: (v, c) => {
        if (v === '') return;
        const bad = v.split(',').filter((p) => !isRetryPolicy(p));
        if (bad.length > 0) {
          c.error(
            `must be a comma-separated list (no spaces) of Envoy retry conditions such as "5xx,reset,connect-failure" or HTTP status codes; not valid: ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
          );
        }
      },
    }),
    retryRemoteLocalities: bool(),
    retryIgnorePreviousHosts: bool(),
    backoff: istioDuration(),
  },
  {
    name: 'a retry policy',
    refine: (v, c) => {
      if ((v.attempts ?? 0) !== 0) return;
      const set = (['perTryTimeout', 'retryOn', 'retryRemoteLocalities'] as const).filter(
        (k) => v[k] !== undefined && v[k] !== '',
      );
      if (set.length > 0) {
        c.error(
          `retries are disabled when attempts is 0 or unset, yet ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set: set attempts, or remove the retry policy`,
        );
      }
    },
  },
);

export type HTTPRetry = Infer<typeof httpRetry>;
