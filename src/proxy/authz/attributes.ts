// What a policy can test about a request or a connection, gathered once when it arrives.

export interface AuthzAttributes {
  /** The peer's SPIFFE ID without `spiffe://` (`cluster.local/ns/shop/sa/web`); undefined in plaintext. */
  principal: string | undefined;
  /** The address of the connection's peer. */
  sourceIp: string;
  /** The original client: from x-forwarded-for past the trusted proxies, else the source. */
  remoteIp: string;
  destinationIp: string;
  destinationPort: number;
  /** The SNI the peer sent in its TLS handshake, if any. */
  sni: string | undefined;
  /** Undefined for a TCP connection. */
  http: HttpAttributes | undefined;
  /**
   * The claims of the request's verified JWT (RequestAuthentication), what requestPrincipals and
   * request.auth.* read; undefined when no token was verified (none sent, or a TCP connection).
   */
  jwtClaims: JwtClaims | undefined;
}

/** A verified token's payload; space-delimited claims (`scope`, …) already split into lists. */
export type JwtClaims = Readonly<Record<string, unknown>>;

export interface HttpAttributes {
  method: string;
  /** The normalized path without its query. */
  path: string;
  /** The authority (Host) as the request named it. */
  host: string;
  /** Flat pairs, names as received. */
  headers: readonly string[];
  /** Lower-case name → value (lines joined with `,`), built on first use by a header condition. */
  byName?: Map<string, string>;
}

/** A request header's value for a policy (name in lower case), from the index built once per request. */
export function requestHeader(http: HttpAttributes, lowerName: string): string | undefined {
  let index = http.byName;
  if (index === undefined) {
    index = new Map();
    const h = http.headers;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = (h[i] as string).toLowerCase();
      const had = index.get(name);
      index.set(name, had === undefined ? (h[i + 1] as string) : `${had},${h[i + 1]}`);
    }
    http.byName = index;
  }
  return index.get(lowerName);
}

/** `cluster.local/ns/shop/sa/web` → its parts; undefined parts when the principal is not that shape. */
export function principalParts(principal: string | undefined): {
  trustDomain: string | undefined;
  namespace: string | undefined;
  serviceAccount: string | undefined;
} {
  const m = principal === undefined ? null : /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  return m === null
    ? { trustDomain: undefined, namespace: undefined, serviceAccount: undefined }
    : { trustDomain: m[1], namespace: m[2], serviceAccount: `${m[2]}/${m[3]}` };
}

/** A header's value, lines of one name joined with `,` as Envoy's header matcher sees them. */
export function headerValue(headers: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  let value: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() !== lower) continue;
    value = value === undefined ? (headers[i + 1] as string) : `${value},${headers[i + 1]}`;
  }
  return value;
}

/**
 * The original client's address: the x-forwarded-for entry `trustedHops` from the right (Envoy's
 * xff_num_trusted_hops, MeshConfig numTrustedProxies), else the connection's peer.
 */
export function remoteIpOf(headers: readonly string[], sourceIp: string, trustedHops: number): string {
  const xff = headerValue(headers, 'x-forwarded-for');
  if (xff === undefined) return sourceIp;
  const entries = xff
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return entries[entries.length - 1 - trustedHops] ?? sourceIp;
}
