// Public face of the admin views: route tables, clusters and endpoints as /routes, /clusters and
// /endpoints show them, and the explanation of one request that /explain and `alder explain` print.

export {
  type ClusterView,
  clusterView,
  durationWords,
  type EjectionView,
  type EndpointView,
  endpointViews,
  type ObservedView,
  policyWords,
} from './cluster-view.ts';
export {
  explainInbound,
  explainInboundSnapshot,
  type InboundExplainInput,
} from './explain-inbound.ts';
export {
  type DestinationExplanation,
  type ExplainInput,
  explainRequest,
  explainSnapshot,
  type RequestExplanation,
  type RouteVerdict,
} from './explain-request.ts';
export { formatRequestExplanation } from './format-explanation.ts';
export { compactMatch, matchWords } from './match-words.ts';
export {
  type ActionView,
  type MatchView,
  type RouteTableView,
  type RouteView,
  routesView,
  type VirtualHostView,
} from './route-view.ts';
