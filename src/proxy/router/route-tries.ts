// One request's plan against its route's cluster, the same for every protocol: each try picks an
// endpoint (balancer, outlier ejections) and counts it in flight; how it ended goes to outlier
// detection and to the endpoint's observed health; the retry policy, maxRetries and the retry budget
// decide whether another try follows. A cluster that asks for TLS origination is refused before any
// try. The request's slot in the circuit breaker is taken first (503 UO without one) and given back by
// finish().

import type { Endpoint } from '../../wire/index.ts';
import type { Observation, Release } from '../balance/index.ts';
import type { OutgoingRequest } from '../http/index.ts';
import { type LocalReply, localReply, ProxyError, Reply, replyOfError } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { Runtime } from '../runtime/index.ts';
import {
  ConnectError,
  limitWords,
  openStream,
  pickEndpoint,
  refuseTlsOrigination,
  upstreamTlsOf,
} from '../upstream/index.ts';
import { peerConnectError } from './connect-words.ts';
import type { ForwardPlan } from './forward-plan.ts';
import type { RoutedRequest } from './outbound-route.ts';
import type { Shadow } from './shadow.ts';

/** Request bodies up to this size are kept so that a retry can send them again (Envoy buffers similarly). */
const REPLAY_LIMIT = 64 * 1024;

/**
 * The plan of a routed request, or the reply that ends it before any try: the refusal of TLS
 * origination (final: no retry could succeed), or 503 UO when its cluster is at its request limit.
 */
export function routedPlan(
  routed: RoutedRequest,
  request: OutgoingRequest,
  runtime: Runtime,
  shadows: readonly Shadow[],
): ForwardPlan | LocalReply {
  const { cluster: cr, hostName, hashKey, retry } = routed;
  const refused = refuseTlsOrigination(cr, hostName);
  if (refused !== undefined) return replyOfError(refused);
  const releaseRequest = cr.breaker.tryAcquireRequest();
  if (releaseRequest === null) return overflow(routed);
  const tls = upstreamTlsOf(cr, runtime.tls);
  /** The retry slot of the try in flight, if it is a retry: held for that try only, as Envoy does. */
  let retrySlot: Release | undefined;
  let endpoint: Endpoint | undefined;
  /** Why the current try could not connect, for the endpoint's observed health. */
  let connectFailure: string | undefined;
  const endTry = () => {
    if (endpoint !== undefined) cr.balancer.onEnd(endpoint);
    endpoint = undefined;
    connectFailure = undefined;
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
      return openStream(runtime, target, request, events, cancel).catch((err: unknown) => {
        if (err instanceof ConnectError) connectFailure = err.detail;
        return Promise.reject(peerConnectError(err, { hostName, cluster: cr, endpoint: picked }));
      });
    },
    report(outcome) {
      if (endpoint === undefined) return;
      cr.outlier.report(
        endpoint,
        outcome.kind === 'response'
          ? { kind: 'response', status: outcome.status }
          : { kind: 'local-failure' },
      );
      cr.observed.report(endpoint, observationOf(outcome, connectFailure));
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

const SUCCESS: Observation = { kind: 'success' };

/** A try's outcome as the endpoint's observed health records it; a 5xx or no response is a failure. */
function observationOf(outcome: TryOutcome, connectFailure: string | undefined): Observation {
  switch (outcome.kind) {
    case 'response':
      return outcome.status < 500 ? SUCCESS : { kind: 'failure', reason: `${outcome.status} response` };
    case 'connect-failure':
      return { kind: 'failure', reason: `connect failure: ${connectFailure ?? 'unknown'}` };
    case 'reset':
      return {
        kind: 'failure',
        reason: outcome.beforeResponse ? 'reset before the response' : 'reset during the response',
      };
    case 'refused-stream':
      return { kind: 'failure', reason: 'stream refused' };
    case 'timeout':
      return { kind: 'failure', reason: 'no response within the timeout' };
  }
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
