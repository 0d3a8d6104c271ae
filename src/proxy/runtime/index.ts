// Public face of the proxy's per-snapshot state: the runtime built once per version (compiled hosts,
// clusters, pools), the context every connection reads it through, and the proxy's counters.

export { type ProxyContext, reportLocalReply } from './context.ts';
export { buildRuntime, type HostRuntime, hostFor, type Runtime, retireRuntime } from './runtime.ts';
export { Stats } from './stats.ts';
