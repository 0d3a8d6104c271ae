// Turns a routed outbound request into the plan the HTTP/1 connection manager runs: each try picks
// an endpoint of the cluster (balancer, outlier ejections), takes a pooled connection within the
// cluster's limits, and the retry policy, retry budget and deadlines decide what follows a failure.

import type { Endpoint } from '../../wire/index.ts';
import type { Release } from '../balance/index.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import type { Runtime } from '../runtime.ts';
import { pickEndpoint } from '../upstream/pick-endpoint.ts';
import type { ForwardPlan, TryOutcome } from './forward-plan.ts';
import type { LocalReply } from './local-reply.ts';
import { forHost, type RoutedRequest } from './outbound-route.ts';
import type { Shadow } from './shadow.ts';

/** Request bodies up to this size are kept so that a retry can send them again (Envoy buffers similarly). */
const REPLAY_LIMIT = 64 * 1024;

export function routedPlan(
  routed: RoutedRequest,
  headers: string[],
  runtime: Runtime,
  shadows: readonly Shadow[],
): ForwardPlan | LocalReply {
  const { cluster: cr, hostName, hashKey, retry } = routed;
  const releaseRequest = cr.breaker.tryAcquireRequest();
  if (releaseRequest === null) {
    return {
      status: 503,
      flag: ResponseFlag.UpstreamOverflow,
      message: `upstream overflow: ${hostName} has ${cr.breaker.stats().requests} requests in flight, its DestinationRule's limit (connectionPool.http.http2MaxRequests)`,
    };
  }
  const tls = cr.cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined;
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
    pools: runtime.pools,
    target: routed.target,
    headers,
    delayMs: routed.delayMs,
    timeoutMs: routed.timeoutMs,
    perTryTimeoutMs: routed.perTryTimeoutMs,
    replayLimit: retry === undefined ? 0 : REPLAY_LIMIT,
    shadows,
    acquire() {
      const picked = pickEndpoint(cr, hostName, hashKey);
      if (picked instanceof ProxyError) return Promise.reject(picked);
      endpoint = picked;
      cr.balancer.onStart(picked);
      return runtime.pools
        .acquire(picked, tls, cr.cluster.connectTimeoutMs, cr.breaker)
        .catch((err: unknown) => Promise.reject(forHost(err, hostName)));
    },
    report(outcome: TryOutcome) {
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
    responseHeaders: routed.editResponse,
    finish() {
      endTry();
      releaseRequest();
    },
  };
}
