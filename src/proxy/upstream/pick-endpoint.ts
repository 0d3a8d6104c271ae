// A cluster's next endpoint, or the ProxyError that explains why there is none: NC for a cluster
// nothing defines, UF for TLS origination (not supported yet), UH with how many endpoints exist and
// why none can take the request.

import type { Endpoint } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';

export function pickEndpoint(cr: ClusterRuntime, host: string, hashKey?: string): Endpoint | ProxyError {
  if (cr.cluster.missing !== undefined) {
    return new ProxyError(Reply.NoCluster, `no cluster for ${host}: ${cr.cluster.missing}`);
  }
  const tlsMode = cr.cluster.tlsMode;
  if (tlsMode === 'SIMPLE' || tlsMode === 'MUTUAL') {
    const rule = cr.cluster.policyOrigin?.destinationRule ?? 'unknown';
    return new ProxyError(
      Reply.ConnectFailure,
      `upstream connect error for ${host}: TLS origination (DestinationRule ${rule} tls.mode ${tlsMode}) is not supported yet; set tls.mode DISABLE and let the app speak TLS itself`,
    );
  }
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
