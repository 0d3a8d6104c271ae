// The L4 paths: inbound (peer proxy → local app) and outbound ports (local app → a cluster's
// endpoint over mTLS). Both end in a byte relay that keeps half-close.

import { connect, type Socket } from 'node:net';
import type { InboundListener, OutboundPortListener } from '../../wire/index.ts';
import { relay } from '../l4/relay.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import { connectEndpoint } from '../upstream/connect.ts';
import { pickEndpoint } from '../upstream/pick-endpoint.ts';
import type { ProxyContext } from './context.ts';

/** Idle connections are closed after an hour, as Envoy's TCP proxy does by default. */
const TCP_IDLE_TIMEOUT_MS = 3_600_000;

export function serveInboundTcp(conn: Socket, spec: InboundListener, ctx: ProxyContext): void {
  const app = connect({ host: spec.app.address, port: spec.app.port, allowHalfOpen: true, noDelay: true });
  const fail = () => {
    ctx.stats.add('alder_proxy_local_replies_total', {
      listener: spec.name,
      flag: ResponseFlag.UpstreamConnectionFailure,
    });
    ctx.log.warn('app unreachable', { listener: spec.name, app: `${spec.app.address}:${spec.app.port}` });
    conn.destroy();
  };
  app.once('error', fail);
  app.once('connect', () => {
    app.off('error', fail);
    relay(conn, app, { idleTimeoutMs: TCP_IDLE_TIMEOUT_MS });
  });
}

export function serveOutboundTcp(conn: Socket, spec: OutboundPortListener, ctx: ProxyContext): void {
  const runtime = ctx.current();
  const picker = spec.cluster === undefined ? undefined : runtime.clusters.get(spec.cluster);
  const endpoint =
    picker === undefined
      ? new ProxyError(ResponseFlag.NoClusterFound, 503, `no cluster ${spec.cluster}`)
      : pickEndpoint(picker, picker.cluster.service);
  if (endpoint instanceof ProxyError || picker === undefined) {
    const err =
      endpoint instanceof ProxyError
        ? endpoint
        : new ProxyError(ResponseFlag.NoClusterFound, 503, 'no cluster');
    ctx.stats.add('alder_proxy_local_replies_total', { listener: spec.name, flag: err.flag });
    ctx.log.warn('connection refused', { listener: spec.name, flag: err.flag, reason: err.message });
    conn.destroy();
    return;
  }
  conn.pause();
  const cluster = picker.cluster;
  connectEndpoint({
    endpoint,
    tls: cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined,
    connectTimeoutMs: cluster.connectTimeoutMs,
  }).then(
    (upstream) => {
      relay(conn, upstream, { idleTimeoutMs: TCP_IDLE_TIMEOUT_MS });
      conn.resume();
    },
    (err: ProxyError) => {
      ctx.stats.add('alder_proxy_local_replies_total', { listener: spec.name, flag: err.flag });
      ctx.log.warn('connection refused', { listener: spec.name, flag: err.flag, reason: err.message });
      conn.destroy();
    },
  );
}
