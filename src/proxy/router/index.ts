// Public face of the router: where a request goes (route choice, faults, mirrors, header edits) and
// the plan of its tries against the chosen cluster, the same for every protocol and direction.

export type { ForwardPlan, RouteDecision } from './forward-plan.ts';
export { type RoutedRequest, routeOutbound } from './outbound-route.ts';
export {
  type DownstreamHop,
  forwardedFor,
  forwardedProto,
  inboundHop,
  outboundHop,
  requestHeaders,
} from './request-headers.ts';
export { requestSlot, routeTries } from './route-tries.ts';
export { inboundDecision, outboundDecision } from './routers.ts';
export { type TcpPortRoutes, tcpDestination, tcpPortDestination, tcpPortRoutes } from './tcp-destination.ts';
