// Whether a failed try is retried, and how long to wait first, as Envoy's RetryStateImpl decides
// (wouldRetryFromHeaders / wouldRetryFromReset) and its JitteredExponentialBackOffStrategy waits.
// The router counts attempts, enforces timeouts and the cluster's retry budget.

import type { RetryPolicy } from '../../wire/index.ts';
import type { RandomSource } from './weighted-picker.ts';

/** How one try ended. `timeout` is the per-try timeout; the route's own timeout is never retried. */
export type TryOutcome =
  | { kind: 'response'; status: number; grpcStatus?: number }
  | { kind: 'connect-failure' }
  /** The upstream reset the stream; `requestStarted` false: no byte of the request was sent yet. */
  | { kind: 'reset'; beforeResponse: boolean; requestStarted?: boolean }
  | { kind: 'refused-stream' }
  | { kind: 'timeout' };

const ON = {
  '5xx': 1,
  'gateway-error': 2,
  'connect-failure': 4,
  'retriable-4xx': 8,
  'refused-stream': 16,
  'retriable-status-codes': 32,
  reset: 64,
  'reset-before-request': 128,
  cancelled: 256,
  'deadline-exceeded': 512,
  'resource-exhausted': 1024,
  unavailable: 2048,
  internal: 4096,
} as const;

/** gRPC conditions and the grpc-status code each retries (Envoy reads it from response headers). */
const GRPC_ON: readonly (readonly [number, number])[] = [
  [ON.cancelled, 1],
  [ON['deadline-exceeded'], 4],
  [ON['resource-exhausted'], 8],
  [ON.unavailable, 14],
  [ON.internal, 13],
];

export interface CompiledRetry {
  readonly policy: RetryPolicy;
  /** Whether Envoy would retry after this outcome (attempts left are the caller's to count). */
  shouldRetry(outcome: TryOutcome): boolean;
  /**
   * The wait before retry `n` (0 for the first retry): fully jittered, uniform in
   * [0, min(baseMs·2ⁿ, maxMs)), whole milliseconds.
   */
  backoffMs(n: number, random: RandomSource): number;
}

/** Compiles retryOn into flags. Conditions Alder does not act on (`retriable-headers`, `envoy-ratelimited`…) never retry. */
export function compileRetry(policy: RetryPolicy): CompiledRetry {
  let on = 0;
  for (const c of policy.retryOn) on |= (ON as Record<string, number>)[c] ?? 0;
  const codes = new Set(policy.retriableStatusCodes);
  // Istio's ConvertPolicy adds retriable-status-codes whenever retryOn lists a status code.
  if (codes.size > 0) on |= ON['retriable-status-codes'];
  const { baseMs, maxMs } = policy.backoff;
  return {
    policy,
    shouldRetry: (outcome) =>
      outcome.kind === 'response' ? fromResponse(on, codes, outcome) : fromReset(on, outcome),
    backoffMs(n, random) {
      const interval = Math.max(1, Math.min(baseMs * 2 ** n, maxMs));
      return Math.min(Math.floor(random() * interval), maxMs);
    },
  };
}

function fromResponse(
  on: number,
  codes: ReadonlySet<number>,
  r: { status: number; grpcStatus?: number },
): boolean {
  const s = r.status;
  if (on & ON['5xx'] && s >= 500 && s < 600) return true;
  if (on & ON['gateway-error'] && (s === 502 || s === 503 || s === 504)) return true;
  if (on & ON['retriable-4xx'] && s === 409) return true;
  if (on & ON['retriable-status-codes'] && codes.has(s)) return true;
  if (r.grpcStatus !== undefined) {
    for (const [flag, code] of GRPC_ON) if (on & flag && r.grpcStatus === code) return true;
  }
  return false;
}

/** Envoy counts every reset (connect failures and per-try timeouts too) as a 5xx and a gateway error. */
function fromReset(on: number, outcome: Exclude<TryOutcome, { kind: 'response' }>): boolean {
  // Once the response has begun, the downstream has it: nothing can be retried.
  if (outcome.kind === 'reset' && !outcome.beforeResponse) return false;
  if (outcome.kind === 'connect-failure' && on & ON['connect-failure']) return true;
  if (outcome.kind === 'reset' && outcome.requestStarted === false && on & ON['reset-before-request'])
    return true;
  if (outcome.kind === 'connect-failure' && on & ON['reset-before-request']) return true;
  if (on & (ON.reset | ON['5xx'] | ON['gateway-error'])) return true;
  return outcome.kind === 'refused-stream' && (on & ON['refused-stream']) !== 0;
}
