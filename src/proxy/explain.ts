// The proxy's explanation of one request, as `alder explain --config` prints it from a compiled
// snapshot: how the caller's proxy routes it, or whether the callee's policies let it in. A face of its own: index.ts, which every proxy loads, leaves out the admin views, which a
// running proxy loads only when its admin port is first asked for one.

export {
  explainInboundSnapshot,
  explainSnapshot,
  formatRequestExplanation,
  type InboundExplainInput,
} from './admin/index.ts';
export { type AuthzExplanation, formatAuthzExplanation } from './authz/index.ts';
