// A cluster's next endpoint, or the ProxyError that explains why there is none: NC for a cluster
// nothing defines, the refusal of TLS origination it cannot do, UH with how many endpoints
// exist and why none can take the request.

import type { Endpoint } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';

export function pickEndpoint(cr: ClusterRuntime, host: string, hashKey?: string): Endpoint | ProxyError {
  if (cr.cluster.missing !== undefined) {
    return new ProxyError(Reply.NoCluster, `no cluster for ${host}: ${cr.cluster.missing}`);
  }
  const refused = refuseTlsOrigination(cr, host);
  if (refused !== undefined) return refused;
  const picked = cr.balancer.pick(hashKey === undefined ? undefined : { hashKey });
  if (picked.kind === 'endpoint') return picked.endpoint;
  const total = cr.cluster.endpoints.length;
  if (picked.kind === 'passthrough') {
    return new ProxyError(
      Reply.NoHealthyUpstream,
      `no endpoint for ${host}: PASSTHROUGH load balancing needs the original destination, which this listener does not have`,
    );
  }
  const why = picked.reason === 'all-ejected' ? `, all ejected by outlier detection` : '';
  return new ProxyError(
    Reply.NoHealthyUpstream,
    `no healthy endpoint for ${host} (0 of ${total} ready${why})`,
  );
}

/**
 * The refusal of a cluster whose DestinationRule asks for TLS origination the proxy cannot do (a
 * field it does not support, files it cannot read); undefined otherwise. A request is refused with
 * it before its first try: trying again could never succeed, and plaintext is never a fallback.
 */
export function refuseTlsOrigination(cr: ClusterRuntime, host: string): ProxyError | undefined {
  const origin = cr.origin;
  if (origin === undefined || !('unusable' in origin)) return undefined;
  const rule = cr.cluster.policyOrigin?.destinationRule ?? 'unknown';
  return new ProxyError(
    Reply.TlsOriginationUnsupported,
    `TLS origination to ${host} impossible: DestinationRule ${rule} sets tls.mode ${cr.cluster.tlsMode}, and its ${origin.unusable}; nothing was sent`,
  );
}
