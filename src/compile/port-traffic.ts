// A port's protocol as the wire names it, and what a proxy does with its connections: parse HTTP,
// move bytes, or (with protocol sniffing on) detect which. Shared by listeners and clusters.

import type { PortProtocol } from '../config/index.ts';
import type { TrafficKind, WireProtocol } from '../wire/index.ts';

const HTTP_FAMILY = new Set<PortProtocol>(['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-Web']);

export function portTraffic(
  protocol: PortProtocol,
  isSniffingOn: boolean,
): { protocol: WireProtocol; traffic: TrafficKind } {
  if (protocol === 'unknown') return { protocol: 'TCP', traffic: isSniffingOn ? 'detect' : 'tcp' };
  const wire: WireProtocol = protocol === 'HTTP_PROXY' ? 'HTTP' : protocol;
  return { protocol: wire, traffic: HTTP_FAMILY.has(protocol) ? 'http' : 'tcp' };
}
