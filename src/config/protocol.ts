// The application protocol of a service port, as Istio derives it: from `appProtocol` when set, else
// from the port name's `<protocol>[-<suffix>]` prefix. Ports Istio's pkg/config/protocol (Parse) and
// pkg/config/kube/conversion.go (ConvertProtocol). The compiler decides what 'unknown' means (TCP
// unless protocol sniffing is on).

import { type Protocol, parseProtocol } from './kinds/protocol.ts';

/** Istio's protocol.Instance values as Istio spells them; 'unknown' is its UnsupportedProtocol. */
export type PortProtocol = Protocol | 'unknown';

// Kubernetes' standard appProtocol values (KEP-3726), read only from appProtocol.
const KUBERNETES_APP_PROTOCOLS: ReadonlyMap<string, PortProtocol> = new Map<string, PortProtocol>([
  ['kubernetes.io/h2c', 'HTTP2'],
  ['kubernetes.io/ws', 'HTTP'],
  ['kubernetes.io/wss', 'HTTPS'],
]);

// Server-first or non-HTTP protocols on their usual ports (SMTP, DNS, MySQL, MongoDB): sniffing
// would stall them, so an unnamed port there is TCP.
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

export interface PortDescription {
  /** The port's name: `http`, `grpc-api`, `tcp-db`. */
  name?: string | undefined;
  /** Kubernetes `appProtocol`; wins over the name when set, even to "". */
  appProtocol?: string | undefined;
  /** The port number, for the well-known TCP ports. */
  port?: number | undefined;
  /** Kubernetes' transport protocol (TCP, UDP, SCTP); UDP wins over everything. */
  protocol?: string | undefined;
}

/**
 * The protocol Istio's ConvertProtocol gives a Service port: UDP when the transport is UDP; else
 * appProtocol (Kubernetes' `kubernetes.io/h2c`, `ws`, `wss`, or a protocol name); else the port name
 * up to its first '-' (`grpc-web` whole); 'unknown' when none names a protocol, or TCP on ports 25,
 * 53, 3306 and 27017.
 */
export function protocolOfPort(port: PortDescription): PortProtocol {
  if (port.protocol === 'UDP') return 'UDP';
  let name = port.name ?? '';
  if (port.appProtocol !== undefined) {
    name = port.appProtocol;
    const standard = KUBERNETES_APP_PROTOCOLS.get(name);
    if (standard !== undefined) return standard;
  }
  if (name.length >= 8 && name.slice(0, 8).toLowerCase() === 'grpc-web') return 'GRPC-Web';
  const dash = name.indexOf('-');
  const found = parseProtocol(dash === -1 ? name : name.slice(0, dash));
  if (found !== undefined) return found;
  return port.port !== undefined && WELL_KNOWN_TCP_PORTS.has(port.port) ? 'TCP' : 'unknown';
}
