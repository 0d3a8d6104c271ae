// What a request a peer sends this workload passes before the router, in Envoy's filter order: its
// path normalized (MeshConfig pathNormalization; 400 when it cannot be), request authentication (RequestAuthentication: a token that does not verify gets Envoy's 401, or
// 403 for an audience not allowed, with its reason as the body), then authorization
// (AuthorizationPolicy, reading the verified token's claims). The runtime current when the request
// arrives decides all of it, also when a token's check completes later.

import type { InboundListener } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import { type AuthnOutcome, authenticate, httpStatusOf, JwtStatus } from '../jwt/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import { normalizePathOf, type RouteDecision } from '../router/index.ts';
import { type ProxyContext, type Runtime, throttledLog } from '../runtime/index.ts';
import { authorizeRequest, type InboundPeer } from './authorize.ts';

/** Envoy keeps at most this much of the path in a 401's WWW-Authenticate realm. */
const MAX_REALM_PATH = 256;

export function admitRequest(
  req: IncomingRequest,
  spec: InboundListener,
  peer: InboundPeer,
  ctx: ProxyContext,
  route: (req: IncomingRequest, runtime: Runtime) => RouteDecision,
): RouteDecision {
  const runtime = ctx.current();
  // Authentication, policies and the app all see the normalized path (or the request gets 400 here).
  const badPath = normalizePathOf(req, runtime);
  if (badPath !== undefined) return badPath;
  if (runtime.authn.isEmpty) {
    const denied = authorizeRequest(req, spec, peer, ctx, { runtime, jwtClaims: undefined });
    return denied === undefined ? route(req, runtime) : { kind: 'reply', reply: denied };
  }
  const authn = authenticate(runtime.authn, req);
  if (!(authn instanceof Promise)) return afterAuthn(authn, req, runtime, spec, peer, ctx, route);
  return {
    kind: 'pending',
    decision: authn.then((o) => afterAuthn(o, req, runtime, spec, peer, ctx, route)),
  };
}

function afterAuthn(
  o: AuthnOutcome,
  req: IncomingRequest,
  runtime: Runtime,
  spec: InboundListener,
  peer: InboundPeer,
  ctx: ProxyContext,
  route: (req: IncomingRequest, runtime: Runtime) => RouteDecision,
): RouteDecision {
  if (o.kind === 'refused') {
    reportRefusal(o, req, spec, peer, ctx);
    return { kind: 'reply', reply: jwtRefusal(o.status, req) };
  }
  req.headers = o.headers;
  if (o.kind === 'verified') req.path = o.path;
  const denied = authorizeRequest(req, spec, peer, ctx, {
    runtime,
    jwtClaims: o.kind === 'verified' ? o.claims : undefined,
  });
  return denied === undefined ? route(req, runtime) : { kind: 'reply', reply: denied };
}

/** Envoy's reply to a token that does not verify: the reason as the body, and a Bearer challenge. */
function jwtRefusal(status: keyof typeof JwtStatus, req: IncomingRequest): LocalReply {
  const text = JwtStatus[status];
  const query = req.path.indexOf('?');
  const path = (query === -1 ? req.path : req.path.slice(0, query)).slice(0, MAX_REALM_PATH);
  return {
    status: httpStatusOf(status),
    flag: '',
    message: text,
    body: Buffer.from(text),
    headers: [
      'content-type',
      'text/plain',
      'www-authenticate',
      `Bearer realm="http://${req.authority}${path}", error="invalid_token"`,
    ],
  };
}

function reportRefusal(
  o: Extract<AuthnOutcome, { kind: 'refused' }>,
  req: IncomingRequest,
  spec: InboundListener,
  peer: InboundPeer,
  ctx: ProxyContext,
): void {
  ctx.stats.add('alder_proxy_jwt_rejected_total', {
    listener: spec.name,
    ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
    reason: o.status,
  });
  throttledLog(ctx.log).warn(
    `jwt:${spec.name}:${o.status}:${o.issuer}`,
    'request authentication refused a token',
    {
      listener: spec.name,
      reason: JwtStatus[o.status],
      status: o.status,
      issuer: o.issuer,
      policy: o.policy,
      source: peer.principal ?? `plaintext from ${peer.sourceIp}`,
      request: `${req.method} ${req.path.split('?')[0]}`,
    },
  );
}
