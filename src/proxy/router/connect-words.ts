// A failed connection in the words of the hop that made it. Inbound, the app is down or not
// listening: the reply names the workload, the services its port serves and the app's address.
// Outbound, a peer or external endpoint could not be reached: it names the cluster, the endpoint
// and its workload. Other errors pass through as they are.

import type { Endpoint, InboundListener, ProxyIdentity } from '../../wire/index.ts';
import { ProxyError } from '../local-reply/index.ts';
import { type ClusterRuntime, ConnectError } from '../upstream/index.ts';

/**
 * `upstream connect error: app of workload reviews-v1 (ns default) for
 * reviews.default.svc.cluster.local:9080 refused the connection at 127.0.0.1:9081 — is it running
 * and listening there?`
 */
export function appConnectError(err: unknown, spec: InboundListener, proxy: ProxyIdentity): unknown {
  if (!(err instanceof ConnectError)) return err;
  const services =
    spec.services.length === 0
      ? `port ${spec.port}`
      : spec.services.map((s) => `${s}:${spec.port}`).join(', ');
  const app = `app of workload ${proxy.workload} (ns ${proxy.namespace}) for ${services}`;
  const at = `${spec.app.address}:${spec.app.port}`;
  const what =
    err.failure === 'refused'
      ? `${app} refused the connection at ${at} — is it running and listening there?`
      : `${app} at ${at}: ${err.reason}${err.failure === 'timeout' ? ' — is it running, and accepting connections?' : ''}`;
  return new ProxyError(err.kind, `upstream connect error: ${what}`, { cause: err });
}

/**
 * `upstream connect error for reviews.shop:9080: cluster outbound|9080||reviews.shop.svc.cluster.local:
 * endpoint 127.0.1.3:9080 (workload reviews-v1, tunnel port 15008): connection refused — is the proxy
 * of workload reviews-v1 running?`; any other ProxyError gets `upstream connect error for HOST: `.
 */
export function peerConnectError(
  err: unknown,
  o: { hostName: string; cluster: ClusterRuntime; endpoint: Endpoint },
): unknown {
  if (!(err instanceof ProxyError)) return err;
  const prefix = `upstream connect error for ${o.hostName}`;
  if (!(err instanceof ConnectError))
    return new ProxyError(err.kind, `${prefix}: ${err.message}`, { cause: err });
  const workload = o.endpoint.workload;
  const notes = [
    ...(workload === '' ? [] : [`workload ${workload}`]),
    ...(err.via === undefined ? [] : [err.via]),
  ];
  const endpoint = `endpoint ${err.target}${notes.length === 0 ? '' : ` (${notes.join(', ')})`}`;
  const isPeerProxy = o.cluster.cluster.tlsMode === 'ISTIO_MUTUAL';
  const hint =
    err.failure !== 'refused'
      ? ''
      : isPeerProxy && workload !== ''
        ? ` — is the proxy of workload ${workload} running?`
        : ' — is it running and listening there?';
  return new ProxyError(
    err.kind,
    `${prefix}: cluster ${o.cluster.cluster.name}: ${endpoint}: ${err.reason}${hint}`,
    { cause: err },
  );
}
