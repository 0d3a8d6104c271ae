// Turns a routed outbound request into the plan the HTTP/1 connection manager runs: each try takes a
// pooled connection (or tunnel) to an endpoint of the route's cluster within the cluster's limits;
// route-tries.ts decides what follows a failure.

import type { LocalReply } from '../local-reply/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { ForwardPlan } from './forward-plan.ts';
import type { RoutedRequest } from './outbound-route.ts';
import { requestSlot, routeTries } from './route-tries.ts';
import type { Shadow } from './shadow.ts';

export function routedPlan(
  routed: RoutedRequest,
  headers: string[],
  runtime: Runtime,
  shadows: readonly Shadow[],
): ForwardPlan | LocalReply {
  const slot = requestSlot(routed);
  if (typeof slot !== 'function') return slot;
  const cr = routed.cluster;
  const tls = cr.cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined;
  const tries = routeTries(routed, slot, (endpoint) =>
    runtime.pools.acquire(endpoint, tls, cr.cluster.connectTimeoutMs, cr.breaker),
  );
  return {
    pools: runtime.pools,
    target: routed.target,
    headers,
    delayMs: routed.delayMs,
    timeoutMs: routed.timeoutMs,
    perTryTimeoutMs: routed.perTryTimeoutMs,
    replayLimit: tries.replayLimit,
    shadows,
    acquire: tries.open,
    report: tries.report,
    retryDelay: tries.retryDelay,
    responseHeaders: routed.editResponse,
    finish: tries.finish,
  };
}
