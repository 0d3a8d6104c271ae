// Circuit breaking per cluster, with Envoy's thresholds: open connections, pending requests,
// requests and retries in flight, plus a retry budget. The upstream layer asks before each step
// and answers 503 with flag UO on a refusal; it owns the pool itself (idle timeout, per-connection cap).

import type { ConnectionPool } from '../../wire/index.ts';

/** Envoy's retry budget: retries in flight ≤ max(budgetPercent% of requests + pending, minRetryConcurrency). */
export interface RetryBudget {
  budgetPercent: number;
  minRetryConcurrency: number;
}

/** Envoy's retry_budget defaults. */
export const DEFAULT_RETRY_BUDGET = {
  budgetPercent: 20,
  minRetryConcurrency: 3,
} as const satisfies RetryBudget;

/** Gives the slot back. Call it exactly once per acquire; the same function serves every acquire. */
export type Release = () => void;

export interface CircuitBreakerStats {
  connections: number;
  pendingRequests: number;
  requests: number;
  retries: number;
  /** The retry limit right now: the smaller of maxRetries and the budget. */
  retryLimit: number;
  /** Refusals (Envoy's upstream_cx_overflow, upstream_rq_pending_overflow, …). */
  overflows: { connections: number; pendingRequests: number; requests: number; retries: number };
}

export interface CircuitBreaker {
  tryAcquireConnection(): Release | null;
  tryAcquirePending(): Release | null;
  /** One per upstream attempt, the first and each retry. */
  tryAcquireRequest(): Release | null;
  /** Before each retry (on top of its tryAcquireRequest): maxRetries and the retry budget both apply. */
  tryAcquireRetry(): Release | null;
  stats(): CircuitBreakerStats;
}

export interface CircuitBreakerOptions {
  /** Defaults to DEFAULT_RETRY_BUDGET; `false`: maxRetries alone. */
  retryBudget?: RetryBudget | false;
}

export function createCircuitBreaker(
  pool: ConnectionPool,
  options: CircuitBreakerOptions = {},
): CircuitBreaker {
  return new Breaker(pool, options.retryBudget ?? DEFAULT_RETRY_BUDGET);
}

class Breaker implements CircuitBreaker {
  readonly #pool: ConnectionPool;
  readonly #budget: RetryBudget | false;
  #connections = 0;
  #pending = 0;
  #requests = 0;
  #retries = 0;
  readonly #overflows = { connections: 0, pendingRequests: 0, requests: 0, retries: 0 };
  // Made once: an acquire allocates nothing. Counts never go below zero.
  readonly #releaseConnection: Release = () => {
    if (this.#connections > 0) this.#connections--;
  };
  readonly #releasePending: Release = () => {
    if (this.#pending > 0) this.#pending--;
  };
  readonly #releaseRequest: Release = () => {
    if (this.#requests > 0) this.#requests--;
  };
  readonly #releaseRetry: Release = () => {
    if (this.#retries > 0) this.#retries--;
  };

  constructor(pool: ConnectionPool, budget: RetryBudget | false) {
    this.#pool = pool;
    this.#budget = budget;
  }

  tryAcquireConnection(): Release | null {
    if (this.#connections >= this.#pool.maxConnections) {
      this.#overflows.connections++;
      return null;
    }
    this.#connections++;
    return this.#releaseConnection;
  }

  tryAcquirePending(): Release | null {
    if (this.#pending >= this.#pool.maxPendingRequests) {
      this.#overflows.pendingRequests++;
      return null;
    }
    this.#pending++;
    return this.#releasePending;
  }

  tryAcquireRequest(): Release | null {
    if (this.#requests >= this.#pool.maxRequests) {
      this.#overflows.requests++;
      return null;
    }
    this.#requests++;
    return this.#releaseRequest;
  }

  tryAcquireRetry(): Release | null {
    if (this.#retries >= this.#retryLimit()) {
      this.#overflows.retries++;
      return null;
    }
    this.#retries++;
    return this.#releaseRetry;
  }

  #retryLimit(): number {
    const budget = this.#budget;
    if (budget === false) return this.#pool.maxRetries;
    // Envoy truncates the percentage to an integer before taking the floor of minRetryConcurrency.
    const byBudget = Math.max(
      Math.floor((budget.budgetPercent / 100) * (this.#requests + this.#pending)),
      budget.minRetryConcurrency,
    );
    return Math.min(this.#pool.maxRetries, byBudget);
  }

  stats(): CircuitBreakerStats {
    return {
      connections: this.#connections,
      pendingRequests: this.#pending,
      requests: this.#requests,
      retries: this.#retries,
      retryLimit: this.#retryLimit(),
      overflows: { ...this.#overflows },
    };
  }
}
