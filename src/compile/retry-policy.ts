// A route's `retries` as the wire's RetryPolicy, as Istio's retry.ConvertPolicy does. Without
// `retries`, Istio's default: 2 attempts on connect-failure, refused-stream, unavailable, cancelled
// and retriable-status-codes, with no status code listed (503 left the default in Istio 1.24,
// EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY). `attempts: 0` turns retries off.

import type { HTTPRetry } from '../config/index.ts';
import type { RetryPolicy } from '../wire/index.ts';
import { msOf } from './durations.ts';

const DEFAULT_RETRY_ON = [
  'connect-failure',
  'refused-stream',
  'unavailable',
  'cancelled',
  'retriable-status-codes',
];
/** Istio before 1.24 listed 503 here; retrying a 503 is unsafe for requests that are not idempotent. */
const DEFAULT_RETRIABLE_STATUS_CODES: readonly number[] = [];

/** Envoy's back-off: 25 ms base, at most 10× the base. */
const DEFAULT_BACKOFF_BASE_MS = 25;
const BACKOFF_MAX_FACTOR = 10;

export function defaultRetryPolicy(): RetryPolicy {
  return {
    attempts: 2,
    retryOn: [...DEFAULT_RETRY_ON],
    retriableStatusCodes: [...DEFAULT_RETRIABLE_STATUS_CODES],
    retryRemoteLocalities: false,
    backoff: { baseMs: DEFAULT_BACKOFF_BASE_MS, maxMs: DEFAULT_BACKOFF_BASE_MS * BACKOFF_MAX_FACTOR },
  };
}

/** Undefined when retries are off. */
export function retryPolicyOf(retries: HTTPRetry | undefined): RetryPolicy | undefined {
  if (retries === undefined) return defaultRetryPolicy();
  const attempts = retries.attempts ?? 0;
  if (attempts <= 0) return undefined;
  const policy = defaultRetryPolicy();
  policy.attempts = attempts;
  if (retries.retryOn) {
    const { conditions, codes } = parseRetryOn(retries.retryOn);
    if (codes.length > 0 && !conditions.includes('retriable-status-codes'))
      conditions.push('retriable-status-codes');
    policy.retryOn = conditions;
    policy.retriableStatusCodes = codes;
  }
  const perTryTimeoutMs = msOf(retries.perTryTimeout);
  if (perTryTimeoutMs !== undefined && perTryTimeoutMs > 0) policy.perTryTimeoutMs = perTryTimeoutMs;
  policy.retryRemoteLocalities = retries.retryRemoteLocalities === true;
  const baseMs = msOf(retries.backoff);
  if (baseMs !== undefined && baseMs > 0) policy.backoff = { baseMs, maxMs: baseMs * BACKOFF_MAX_FACTOR };
  return policy;
}

/** Istio's parseRetryOn: integers are status codes, the rest Envoy conditions. */
function parseRetryOn(retryOn: string): { conditions: string[]; codes: number[] } {
  const conditions: string[] = [];
  const codes: number[] = [];
  for (const part of retryOn.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    if (/^[+-]?\d+$/.test(part)) codes.push(Number(part));
    else conditions.push(part);
  }
  return { conditions, codes };
}
