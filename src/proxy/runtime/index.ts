// Public face of the proxy's per-snapshot state: the runtime built once per version (compiled hosts,
// clusters, pools), the context every connection reads it through, the proxy's counters and throttled
// warnings, and the connection limits settled when the process starts.

export {
  CONNECTION_LIMIT_DEFAULTS,
  type ConnectionLimits,
  connectionLimits,
  readConnectionLimits,
} from './connection-limits.ts';
export { type ProxyContext, reportLocalReply } from './context.ts';
export {
  buildRuntime,
  type HostRuntime,
  hostFor,
  type Runtime,
  type RuntimeEvents,
  retireRuntime,
} from './runtime.ts';
export { Stats } from './stats.ts';
export { ThrottledLog, throttledLog } from './throttled-log.ts';
