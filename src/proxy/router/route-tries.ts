// One request's tries against its route's cluster, the same for HTTP/1 and HTTP/2: each try picks an
// endpoint (balancer, outlier ejections) and counts it in flight; how it ended goes to outlier
// detection; the retry policy, maxRetries and the retry budget decide whether another try follows.
// The request's slot in the circuit breaker is taken by the caller (it answers 503 UO without one)
// and given back by finish().

import type { Endpoint } from '../../wire/index.ts';
import type { Release } from '../balance/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import { ProxyError, ResponseFlag } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import { pickEndpoint } from '../upstream/index.ts';
import { forHost, type RoutedRequest } from './outbound-route.ts';

/** Request bodies up to this size are kept so that a retry can send them again (Envoy buffers similarly). */
const REPLAY_LIMIT = 64 * 1024;

export interface RouteTries<T> {
  /** Request bodies up to this size are kept for retries (0 without a retry policy). */
  readonly replayLimit: number;
  /** Picks an endpoint and connects to it for the next try; rejects with a ProxyError. */
  open(): Promise<T>;
  report(outcome: TryOutcome): void;
  /** Milliseconds before try `attempt` after `outcome`, or -1 when the outcome is final. */
  retryDelay(outcome: TryOutcome, attempt: number): number;
  finish(): void;
}

/** The request's circuit-breaker slot, or the 503 UO reply when the cluster is at its limit. */
export function requestSlot(routed: RoutedRequest): Release | LocalReply {
  const cr = routed.cluster;
  const release = cr.breaker.tryAcquireRequest();
  if (release !== null) return release;
  return {
    status: 503,
    flag: ResponseFlag.UpstreamOverflow,
    message: `upstream overflow: ${routed.hostName} has ${cr.breaker.stats().requests} requests in flight, its DestinationRule's limit (connectionPool.http.http2MaxRequests)`,
  };
}

export function routeTries<T>(
  routed: RoutedRequest,
  releaseRequest: Release,
  connect: (endpoint: Endpoint) => Promise<T>,
): RouteTries<T> {
  const { cluster: cr, hostName, hashKey, retry } = routed;
  /** The retry slot of the try in flight, if it is a retry: held for that try only, as Envoy does. */
  let retrySlot: Release | undefined;
  let endpoint: Endpoint | undefined;
  const endTry = () => {
    if (endpoint !== undefined) cr.balancer.onEnd(endpoint);
    endpoint = undefined;
    retrySlot?.();
    retrySlot = undefined;
  };
  return {
    replayLimit: retry === undefined ? 0 : REPLAY_LIMIT,
    open() {
      const picked = pickEndpoint(cr, hostName, hashKey);
      if (picked instanceof ProxyError) return Promise.reject(picked);
      endpoint = picked;
      cr.balancer.onStart(picked);
      return connect(picked).catch((err: unknown) => Promise.reject(forHost(err, hostName)));
    },
    report(outcome) {
      if (endpoint === undefined) return;
      cr.outlier.report(
        endpoint,
        outcome.kind === 'response'
          ? { kind: 'response', status: outcome.status }
          : { kind: 'local-failure' },
      );
      endTry();
    },
    retryDelay(outcome, attempt) {
      if (retry === undefined || attempt > retry.policy.attempts || !retry.shouldRetry(outcome)) return -1;
      const slot = cr.breaker.tryAcquireRetry();
      if (slot === null) return -1;
      retrySlot = slot;
      return retry.backoffMs(attempt - 1, Math.random);
    },
    finish() {
      endTry();
      releaseRequest();
    },
  };
}
