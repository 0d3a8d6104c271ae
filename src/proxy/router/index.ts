// Public face of the router: where a request goes (route choice, faults, mirrors, header edits), the
// plan of its tries against the chosen cluster, and the exchange that runs it — the same for every
// protocol and direction.

export { type Downstream, Exchange } from './exchange.ts';
export type { ForwardPlan, RouteDecision, TunnelServer } from './forward-plan.ts';
export { type DownstreamAddress, type RoutedRequest, routeOutbound } from './outbound-route.ts';
export { type DownstreamHop, inboundHop, outboundHop, requestHeaders } from './request-headers.ts';
export { inboundDecision, normalizePathOf, outboundDecision } from './routers.ts';
export { type TcpPortRoutes, tcpDestination, tcpPortDestination, tcpPortRoutes } from './tcp-destination.ts';
