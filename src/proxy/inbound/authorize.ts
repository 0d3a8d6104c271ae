// Authorization at the inbound side: each request (HTTP) or connection (TCP) a peer sends this
// workload is tested against the AuthorizationPolicies in force before it reaches the app. A denied
// request gets Envoy's 403 `RBAC: access denied`, a denied connection is closed; each denial is
// counted and logged with the policy and rule that decided, and so is what a dry-run policy would
// have denied. Callers learn nothing more than the 403.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { InboundListener } from '../../wire/index.ts';
import {
  type AuthzAttributes,
  type AuthzDecision,
  type CompiledAuthz,
  connectionPlans,
  decide,
  decideWith,
  remoteIpOf,
  type TrafficPlans,
  type Verdict,
} from '../authz/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import { type ProxyContext, type Runtime, throttledLog } from '../runtime/index.ts';

const DENIED_BODY = 'RBAC: access denied';

/** Envoy's reply to a request its RBAC filter denies (no response flag); gRPC callers get PERMISSION_DENIED. */
export const ACCESS_DENIED: LocalReply = {
  status: 403,
  flag: '',
  message: DENIED_BODY,
  body: Buffer.from(DENIED_BODY),
  headers: ['content-type', 'text/plain'],
  grpcStatus: 7,
};

/** What a connection tells about its peer, read once when it is accepted. */
export interface InboundPeer {
  principal: string | undefined;
  sourceIp: string;
  sni: string | undefined;
  /** The HTTP plans cut down for this connection, for the config version they were made from. */
  plans?: { authz: CompiledAuthz; plans: TrafficPlans };
}

/** The peer of `conn`: a socket, or an HBONE tunnel stream (read through its session's socket). */
export function inboundPeer(conn: Socket | TLSSocket, peer: string | undefined): InboundPeer {
  const session = (conn as unknown as { session?: { socket?: Socket | TLSSocket } }).session?.socket;
  const socket = conn.remoteAddress === undefined && session !== undefined ? session : conn;
  const sni = (socket as TLSSocket).servername;
  return {
    principal: peer?.startsWith('spiffe://') ? peer.slice('spiffe://'.length) : peer,
    sourceIp: unmapped(socket.remoteAddress ?? ''),
    sni: typeof sni === 'string' && sni !== '' ? sni : undefined,
  };
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * The 403 for a request the policies deny; undefined when it may pass. `runtime` is the one the
 * request arrived under; `jwtClaims` those of its verified token, if any.
 */
export function authorizeRequest(
  req: IncomingRequest,
  spec: InboundListener,
  peer: InboundPeer,
  ctx: ProxyContext,
  o: { runtime: Runtime; jwtClaims: AuthzAttributes['jwtClaims'] },
): LocalReply | undefined {
  const runtime = o.runtime;
  if (runtime.authz.isEmpty) return undefined;
  const query = req.path.indexOf('?');
  const attributes: AuthzAttributes = {
    principal: peer.principal,
    sourceIp: peer.sourceIp,
    remoteIp: remoteIpOf(req.headers, peer.sourceIp, runtime.snapshot.mesh.http.numTrustedProxies),
    destinationIp: spec.address,
    destinationPort: spec.port,
    sni: peer.sni,
    http: {
      method: req.method,
      path: query === -1 ? req.path : req.path.slice(0, query),
      host: req.authority,
      headers: req.headers,
    },
    jwtClaims: o.jwtClaims,
  };
  // Rules this connection's peer, address or port rule out are dropped once, not tested per request.
  if (peer.plans?.authz !== runtime.authz)
    peer.plans = { authz: runtime.authz, plans: sharedPlans(runtime.authz, attributes) };
  const decision = decideWith(peer.plans.plans, attributes);
  report(decision, spec, attributes, ctx);
  return decision.allowed ? undefined : ACCESS_DENIED;
}

/** Most cut-down plans kept per config version: connections of one caller share theirs. */
const MAX_SHARED_PLANS = 1024;
const plansByCaller = new WeakMap<CompiledAuthz, Map<string, TrafficPlans>>();

/** The plans for this connection's caller (peer, address, port, SNI), shared by its connections. */
function sharedPlans(authz: CompiledAuthz, a: AuthzAttributes): TrafficPlans {
  let byCaller = plansByCaller.get(authz);
  if (byCaller === undefined) {
    byCaller = new Map();
    plansByCaller.set(authz, byCaller);
  }
  const key = `${a.principal ?? ''} ${a.sourceIp} ${a.destinationIp}:${a.destinationPort} ${a.sni ?? ''}`;
  let plans = byCaller.get(key);
  if (plans === undefined) {
    if (byCaller.size >= MAX_SHARED_PLANS) byCaller.clear();
    plans = connectionPlans(authz, a);
    byCaller.set(key, plans);
  }
  return plans;
}

/** Whether a TCP connection may reach the app. */
export function authorizeConnection(spec: InboundListener, peer: InboundPeer, ctx: ProxyContext): boolean {
  const runtime = ctx.current();
  if (runtime.authz.isEmpty) return true;
  const attributes: AuthzAttributes = {
    principal: peer.principal,
    sourceIp: peer.sourceIp,
    remoteIp: peer.sourceIp,
    destinationIp: spec.address,
    destinationPort: spec.port,
    sni: peer.sni,
    http: undefined,
    jwtClaims: undefined,
  };
  const decision = decide(runtime.authz, attributes);
  report(decision, spec, attributes, ctx);
  return decision.allowed;
}

function report(d: AuthzDecision, spec: InboundListener, a: AuthzAttributes, ctx: ProxyContext): void {
  if (d.deniedBy !== undefined) count(ctx, spec, a, d.deniedBy, false);
  if (d.wouldDeny !== undefined) count(ctx, spec, a, d.wouldDeny, true);
  for (const v of d.audited) {
    ctx.stats.add('alder_proxy_authz_audited_total', {
      listener: spec.name,
      policy: v.policy,
      rule: String(v.rule),
    });
  }
}

function count(
  ctx: ProxyContext,
  spec: InboundListener,
  a: AuthzAttributes,
  v: Verdict,
  dryRun: boolean,
): void {
  const rule = v.rule === -1 ? 'none' : String(v.rule);
  ctx.stats.add('alder_proxy_authz_denied_total', {
    listener: spec.name,
    policy: v.policy,
    rule,
    dry_run: String(dryRun),
  });
  const what = a.http === undefined ? 'connection' : `${a.http.method} ${a.http.path}`;
  throttledLog(ctx.log).warn(
    `authz:${dryRun}:${v.policy}:${rule}:${a.principal}`,
    dryRun ? 'authorization would deny (dry run)' : 'authorization denied',
    {
      listener: spec.name,
      policy: v.policy,
      rule: v.rule === -1 ? 'no ALLOW policy matched' : v.rule,
      source: a.principal ?? `plaintext from ${a.sourceIp}`,
      request: what,
    },
  );
}
