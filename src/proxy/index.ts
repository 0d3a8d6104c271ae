// Public face of the proxy: the process that runs one workload's snapshot, and the dispatch of
// connections to its paths. `alder explain` finds the proxy's explanation of a request in explain.ts.

export type {
  ClusterView,
  EndpointView,
  ExplainInput,
  RequestExplanation,
  RouteTableView,
  RouteView,
  VirtualHostView,
} from './admin/index.ts';
export { dispatch } from './dispatch.ts';
export { type ApplyOutcome, type ProxyOptions, WorkloadProxy } from './workload-proxy.ts';
