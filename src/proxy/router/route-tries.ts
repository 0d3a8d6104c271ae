// One request's plan against its route's cluster, the same for every protocol: each try picks an
// endpoint (balancer, outlier ejections) and counts it in flight; how it ended goes to outlier
// detection; the retry policy, maxRetries and the retry budget decide whether another try follows.
// The request's slot in the circuit breaker is taken first (503 UO without one) and given back by
// finish().

import type { Endpoint } from '../../wire/index.ts';
import type { Release } from '../balance/index.ts';
import type { OutgoingRequest } from '../http/index.ts';
import { type LocalReply, localReply, ProxyError, Reply } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { Runtime } from '../runtime/index.ts';
import { limitWords, openStream, pickEndpoint } from '../upstream/index.ts';
import type { ForwardPlan } from './forward-plan.ts';
import { forHost, type RoutedRequest } from './outbound-route.ts';
import type { Shadow } from './shadow.ts';

/** Request bodies up to this size are kept so that a retry can send them again (Envoy buffers similarly). */
const REPLAY_LIMIT = 64 * 1024;

/** The plan of a routed request, or the 503 UO reply when its cluster is at its request limit. */
export function routedPlan(
  routed: RoutedRequest,
  request: OutgoingRequest,
  runtime: Runtime,
  shadows: readonly Shadow[],
): ForwardPlan | LocalReply {
  const { cluster: cr, hostName, hashKey, retry } = routed;
  const releaseRequest = cr.breaker.tryAcquireRequest();
  if (releaseRequest === null) return overflow(routed);
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
    request,
    delayMs: routed.delayMs,
    timeoutMs: routed.timeoutMs,
    perTryTimeoutMs: routed.perTryTimeoutMs,
    replayLimit: retry === undefined ? 0 : REPLAY_LIMIT,
    shadows,
    open(_attempt, events, cancel) {
      const picked = pickEndpoint(cr, hostName, hashKey);
      if (picked instanceof ProxyError) return Promise.reject(picked);
      endpoint = picked;
      cr.balancer.onStart(picked);
      const target = {
        endpoint: picked,
        protocol: cr.cluster.protocol,
        tls,
        connectTimeoutMs: cr.cluster.connectTimeoutMs,
        cluster: cr,
      };
      return openStream(runtime, target, request, events, cancel).catch((err: unknown) =>
        Promise.reject(forHost(err, hostName)),
      );
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
      // An upgrade that reached the upstream is not sent again (it may have opened a session there).
      if (request.upgrade !== undefined && !isUnsent(outcome)) return -1;
      const slot = cr.breaker.tryAcquireRetry();
      if (slot === null) return -1;
      retrySlot = slot;
      return retry.backoffMs(attempt - 1, Math.random);
    },
    editResponse: routed.editResponse,
    finish() {
      endTry();
      releaseRequest();
    },
  };
}

/** The try ended before the upstream saw the request: the connection failed or the stream was refused. */
function isUnsent(outcome: TryOutcome): boolean {
  return outcome.kind === 'connect-failure' || outcome.kind === 'refused-stream';
}

function overflow(routed: RoutedRequest): LocalReply {
  const cr = routed.cluster;
  return localReply(
    Reply.Overflow,
    `upstream overflow: ${routed.hostName} has ${cr.breaker.stats().requests} requests in flight, the limit of ${limitWords(cr, ['maxRequests'])}`,
  );
}
