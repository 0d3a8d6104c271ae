// The request headers each demo app copies from the request it serves onto the calls it makes, as
// Bookinfo does: trace context (W3C, B3, OpenTracing), the request id, the test user, the user agent.
// Callers pass the result to mesh-client (HTTP) or grpc-client (gRPC metadata).

import type { IncomingHttpHeaders } from 'node:http';

export const TRACE_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'end-user',
  'user-agent',
] as const;

/** The trace headers present in `incoming`, each as one string. */
export function traceHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = incoming[name];
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(', ');
  }
  return out;
}
