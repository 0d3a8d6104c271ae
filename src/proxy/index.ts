// Public face of the proxy: the process that runs one workload's snapshot, and the dispatch of
// connections to its paths.

export { dispatch } from './dispatch.ts';
export { type ApplyOutcome, type ProxyOptions, WorkloadProxy } from './workload-proxy.ts';
