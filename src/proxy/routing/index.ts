// Public face of HTTP and TCP routing: virtual hosts compiled once per snapshot into matchers that
// select a route per request, the explanation `alder explain` prints, and the pure helpers for a
// route's actions (weights, rewrite, redirect, direct response, header edits, fault, CORS, retry).

export {
  type CompiledTcpRoute,
  type CompiledTcpRoutes,
  compileTcpRoutes,
  sniMatches,
  type TcpConnectionInfo,
  type TcpSelection,
} from './compile-tcp-routes.ts';
export {
  type Candidate,
  type CompiledAction,
  type CompiledDestination,
  type CompiledRoute,
  type CompiledVirtualHost,
  compileVirtualHost,
  formatOrigin,
  type RouteSelection,
} from './compile-virtual-host.ts';
export { type CompiledCors, type CorsPreflight, compileCors } from './cors.ts';
export { compileDirectResponse, type DirectResponse } from './direct-response.ts';
export {
  type Explanation,
  explain,
  explainCompiled,
  formatExplanation,
  type MatchBlockExplanation,
  type RouteExplanation,
} from './explain.ts';
export {
  type CompiledFault,
  compileFault,
  type FaultAbort,
  type FaultDecision,
  GRPC_STATUS,
  type GrpcStatusName,
} from './fault.ts';
export {
  applyHeaderEdits,
  compileHeaderEdits,
  type HeaderEditPlan,
  type HeaderEditPlans,
  type HeaderEditStage,
} from './header-edits.ts';
export { noRoute } from './no-route.ts';
export { type RedirectReply, redirectReply } from './redirect.ts';
export {
  compileRequestFilters,
  type FilterEffects,
  type RequestFilter,
  runRequestFilters,
} from './request-filters.ts';
export { type CompiledRetry, compileRetry, type TryOutcome } from './retry.ts';
export { compilePathRewrite, type PathRewriter } from './rewrite.ts';
export { headerValue, type RouteRequest } from './route-request.ts';
export { compileStringMatch, type StringMatcher } from './string-match.ts';
export { compileWeights, type RandomSource, type WeightedPicker } from './weighted-picker.ts';
