// Whether this workload's AuthorizationPolicies let one caller's request in, and why: the request
// as its inbound port would see it (the port picked by the URL's port, TCP when the port is TCP),
// from a caller named by its principal (or plaintext, from an address), carrying the claims of a JWT
// taken as verified (for requestPrincipals and request.auth.*), explained rule by rule.

import { AlderError, ErrorCode } from '../../config/core.ts';
import type { InboundListener, Snapshot } from '../../wire/index.ts';
import {
  type AuthzAttributes,
  type AuthzExplanation,
  type CompiledAuthz,
  compileAuthz,
  explainAuthz,
  remoteIpOf,
} from '../authz/index.ts';
import { pathNormalizer } from '../http/index.ts';
import { type JwtClaims, normalizedClaims } from '../jwt/index.ts';

export interface InboundExplainInput {
  /** The caller's principal (`cluster.local/ns/shop/sa/web`, `spiffe://` accepted); undefined: plaintext. */
  principal: string | undefined;
  /** The caller's address (default 127.0.0.1). */
  sourceIp: string | undefined;
  method: string;
  /** `host:port`: the port picks the inbound port. */
  authority: string;
  path: string;
  headers: [string, string][];
  /** The claims of the request's JWT, taken as verified (no signature is checked here); undefined: no token. */
  jwtClaims?: Record<string, unknown> | undefined;
}

export function explainInbound(
  source: { snapshot: Snapshot; authz: CompiledAuthz },
  input: InboundExplainInput,
): AuthzExplanation {
  const colon = input.authority.lastIndexOf(':');
  const port = Number(input.authority.slice(colon + 1));
  const inbound = source.snapshot.listeners.filter((l): l is InboundListener => l.kind === 'inbound');
  const listener = colon === -1 ? undefined : inbound.find((l) => l.port === port);
  if (listener === undefined) {
    throw new AlderError(
      ErrorCode.Usage,
      `workload ${source.snapshot.proxy.namespace}/${source.snapshot.proxy.workload} serves nothing on ${colon === -1 ? 'that authority (no port)' : `port ${port}`}`,
      {
        hint: `name one of its inbound ports in the URL: ${inbound.map((l) => l.port).join(', ') || 'it has none'}`,
      },
    );
  }
  const headers = input.headers.flat();
  const sourceIp = input.sourceIp ?? '127.0.0.1';
  // Policies see the path as the proxy normalizes it (MeshConfig pathNormalization).
  const normalized = pathNormalizer(source.snapshot.mesh.pathNormalization)(input.path);
  if (typeof normalized !== 'string') {
    throw new AlderError(
      ErrorCode.Usage,
      `the proxy refuses this path with 400 before any policy: it ${normalized.words}`,
      { hint: 'explain a path the proxy accepts' },
    );
  }
  const path = normalized;
  const query = path.indexOf('?');
  const principal = input.principal?.startsWith('spiffe://')
    ? input.principal.slice('spiffe://'.length)
    : input.principal;
  const attributes: AuthzAttributes = {
    principal,
    sourceIp,
    remoteIp: remoteIpOf(headers, sourceIp, source.snapshot.mesh.http.numTrustedProxies),
    destinationIp: listener.address,
    destinationPort: listener.port,
    sni: undefined,
    jwtClaims: claimsOf(input.jwtClaims, source.snapshot),
    http:
      listener.traffic === 'tcp'
        ? undefined
        : {
            method: input.method,
            path: query === -1 ? path : path.slice(0, query),
            host: input.authority,
            headers,
          },
  };
  return explainAuthz(source.authz, attributes);
}

/**
 * Claims as the proxy hands a verified token's to authorization: split as the rule of their issuer
 * says (`scope`, `permission` and its spaceDelimitedClaims).
 */
function claimsOf(claims: Record<string, unknown> | undefined, snapshot: Snapshot): JwtClaims | undefined {
  if (claims === undefined) return undefined;
  const rule = snapshot.requestAuthentication?.find((r) => r.issuer === undefined || r.issuer === claims.iss);
  return normalizedClaims(claims, rule?.spaceDelimitedClaims ?? []);
}

/** The same for a snapshot compiled here (`alder explain --config --to`). */
export function explainInboundSnapshot(snapshot: Snapshot, input: InboundExplainInput): AuthzExplanation {
  return explainInbound({ snapshot, authz: compileAuthz(snapshot.authorization) }, input);
}
