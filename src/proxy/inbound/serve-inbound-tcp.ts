// The inbound L4 path: a connection the mTLS gate passed (or a tunnel stream) → the local app,
// relayed byte for byte with half-close kept, once the AuthorizationPolicies in force allow it (a
// denied connection is closed).

import { connect, type Socket } from 'node:net';
import type { InboundListener } from '../../wire/index.ts';
import { relay } from '../l4/index.ts';
import { ResponseFlag } from '../local-reply/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { authorizeConnection, inboundPeer } from './authorize.ts';

/** Idle connections are closed after an hour, as Envoy's TCP proxy does by default. */
const TCP_IDLE_TIMEOUT_MS = 3_600_000;

export function serveInboundTcp(
  conn: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  if (!authorizeConnection(spec, inboundPeer(conn, peer), ctx)) {
    conn.destroy();
    return;
  }
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
