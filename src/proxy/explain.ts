// The proxy's explanation of one request, as `alder explain --config` prints it from a compiled
// snapshot. A face of its own: index.ts, which every proxy loads, leaves out the admin views, which a
// running proxy loads only when its admin port is first asked for one.

export { explainSnapshot, formatRequestExplanation } from './admin/index.ts';
