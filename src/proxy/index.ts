// Public face of the proxy: the process that runs one workload's snapshot, and the dispatch of
// connections to its paths.

export {
  type ClusterView,
  type EndpointView,
  type ExplainInput,
  explainSnapshot,
  formatRequestExplanation,
  type RequestExplanation,
  type RouteTableView,
  type RouteView,
  type VirtualHostView,
} from './admin/index.ts';
export { dispatch } from './dispatch.ts';
export { type ApplyOutcome, type ProxyOptions, WorkloadProxy } from './workload-proxy.ts';
