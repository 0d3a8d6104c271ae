// Port protocols as Istio names them (pkg/config/protocol): parsed case-insensitively, with the
// families Istio's validation asks about (HTTP, TLS, TCP). ServiceEntry ports use these.

export type Protocol =
  | 'TCP'
  | 'UDP'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTP'
  | 'HTTP_PROXY'
  | 'HTTP2'
  | 'HTTPS'
  | 'TLS'
  | 'Mongo'
  | 'Redis'
  | 'MySQL';

export const PROTOCOLS: readonly Protocol[] = [
  'HTTP',
  'HTTPS',
  'GRPC',
  'GRPC-Web',
  'HTTP2',
  'HTTP_PROXY',
  'TCP',
  'TLS',
  'UDP',
  'Mongo',
  'Redis',
  'MySQL',
];

const byLowerName = new Map<string, Protocol>(PROTOCOLS.map((p) => [p.toLowerCase(), p]));

/** Istio's protocol.Parse: any case; undefined where Istio says "unsupported" (and for ""). */
export function parseProtocol(name: string): Protocol | undefined {
  return byLowerName.get(name.toLowerCase());
}

/** Protocols that carry HTTP (protocol.IsHTTP). */
export function isHttpProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

/** Protocols on top of TLS, whose SNI names the host (protocol.IsTLS). */
export function isTlsProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

/** Protocols carried over plain TCP connections without HTTP (protocol.IsTCP). */
export function isTcpProtocol(p: Protocol | undefined): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}
