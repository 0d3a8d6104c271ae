// The outbound L4 path: local app → a routed cluster's endpoint over mTLS, by the port's TCP and TLS
// routes, ending in a byte relay that keeps half-close.

import type { Socket } from 'node:net';
import type { Endpoint, OutboundPortListener } from '../../wire/index.ts';
import { peekClientHello, relay } from '../l4/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import { type TcpPortRoutes, tcpPortDestination, tcpPortRoutes } from '../router/index.ts';
import type { ProxyContext, Runtime } from '../runtime/index.ts';
import type { ClusterRuntime } from '../upstream/index.ts';
import { connectPeer, pickEndpoint, upstreamTlsOf } from '../upstream/index.ts';

/** Idle connections are closed after an hour, as Envoy's TCP proxy does by default. */
const TCP_IDLE_TIMEOUT_MS = 3_600_000;

/**
 * Local app → mesh on an outbound port: reads the ClientHello's SNI when a route needs it, routes the
 * connection through the port's virtual hosts, picks an endpoint of the route's cluster within its
 * circuit breaker, connects (mTLS to a peer proxy) and relays the bytes untouched.
 */
export function serveOutboundTcp(conn: Socket, spec: OutboundPortListener, ctx: ProxyContext): void {
  const runtime = ctx.current();
  const routes = tcpPortRoutes(runtime, spec.routeTable);
  if (routes === undefined) {
    refuse(conn, spec, ctx, new ProxyError(Reply.NoVirtualHost, `no route table ${spec.routeTable}`));
  } else if (!routes.needsSni) {
    forward(conn, spec, ctx, { runtime, routes, sni: undefined });
  } else {
    const peek = { timeoutMs: CLIENT_HELLO_TIMEOUT_MS, maxBytes: MAX_CLIENT_HELLO_BYTES };
    peekClientHello(conn, peek).then((hello) => {
      ctx.stats.add('alder_proxy_tls_inspected_total', { listener: spec.name, outcome: hello.kind });
      if (hello.kind === 'too-large') {
        ctx.log.warn('connection refused', {
          listener: spec.name,
          reason: `TLS ClientHello larger than ${MAX_CLIENT_HELLO_BYTES} bytes`,
        });
      }
      if (hello.kind === 'closed' || hello.kind === 'too-large') conn.destroy();
      else forward(conn, spec, ctx, { runtime, routes, sni: hello.kind === 'tls' ? hello.sni : undefined });
    });
  }
}

/** Envoy's listener-filter timeout is 15 s; Alder waits as long as for a peer's first mTLS byte. */
const CLIENT_HELLO_TIMEOUT_MS = 10_000;
/** Envoy's tls_inspector refuses larger ClientHellos (its max_client_hello_size ceiling, 64 KiB). */
const MAX_CLIENT_HELLO_BYTES = 65_536;

interface Routed {
  runtime: Runtime;
  routes: TcpPortRoutes;
  sni: string | undefined;
}

function forward(conn: Socket, spec: OutboundPortListener, ctx: ProxyContext, o: Routed): void {
  const slot = acquire(conn, spec, o);
  if (slot instanceof ProxyError) {
    refuse(conn, spec, ctx, slot, o.sni);
    return;
  }
  const { cr, endpoint, done } = slot;
  conn.pause();
  connectPeer(
    o.runtime.tunnels,
    endpoint,
    upstreamTlsOf(cr, o.runtime.tls),
    cr.cluster.connectTimeoutMs,
  ).then(
    (upstream) => {
      // Envoy's tcp_proxy reports a connect as LocalOriginConnectSuccessFinal, which outlier
      // detection counts as an HTTP 200 when local-origin errors are not split.
      cr.outlier.report(endpoint, { kind: 'response', status: 200 });
      cr.observed.report(endpoint, { kind: 'success' });
      if (conn.destroyed) {
        upstream.destroy();
        done();
        return;
      }
      relay(conn, upstream, { idleTimeoutMs: TCP_IDLE_TIMEOUT_MS, onClose: done });
      conn.resume();
    },
    (err: ProxyError) => {
      cr.outlier.report(endpoint, { kind: 'local-failure' });
      cr.observed.report(endpoint, { kind: 'failure', reason: `connect failure: ${err.message}` });
      done();
      refuse(conn, spec, ctx, err, o.sni);
    },
  );
}

/**
 * The route, endpoint and connection slot of a new connection, or why it has none (NR, NC, UH,
 * UO). `done` gives back the slot and the endpoint's in-flight count; call it once.
 */
function acquire(
  conn: Socket,
  spec: OutboundPortListener,
  o: Routed,
): { cr: ClusterRuntime; endpoint: Endpoint; done: () => void } | ProxyError {
  const info = { port: spec.port, sni: o.sni, destinationAddress: conn.localAddress ?? '' };
  const target = tcpPortDestination(o.routes, info, o.runtime);
  if (target instanceof ProxyError) return target;
  const cr = target.cluster;
  const endpoint = pickEndpoint(cr, target.host.displayName);
  if (endpoint instanceof ProxyError) return endpoint;
  const release = cr.breaker.tryAcquireConnection();
  if (release === null) {
    return new ProxyError(
      Reply.Overflow,
      `upstream overflow: ${cr.cluster.name} has ${cr.cluster.connectionPool.maxConnections} connections open, its DestinationRule's limit (connectionPool.tcp.maxConnections)`,
    );
  }
  cr.balancer.onStart(endpoint);
  const done = () => {
    cr.balancer.onEnd(endpoint);
    release();
  };
  return { cr, endpoint, done };
}

function refuse(
  conn: Socket,
  spec: OutboundPortListener,
  ctx: ProxyContext,
  err: ProxyError,
  sni?: string,
): void {
  ctx.stats.add('alder_proxy_local_replies_total', { listener: spec.name, flag: err.flag });
  ctx.log.warn('connection refused', {
    listener: spec.name,
    flag: err.flag,
    reason: err.message,
    ...(sni === undefined ? {} : { sni }),
  });
  conn.destroy();
}
