// The HTTP/1 codec's request rules applied to an HTTP/2 stream before it is routed: a method the
// snapshot does not allow (501), a header name spelling a framing header with `_`, or any `_` under
// REJECT_REQUEST (400). Refusals are counted and logged as the HTTP/1 listeners count theirs.

import type { IncomingHttpHeaders } from 'node:http2';
import { type Http1Limits, isFramingLookalike, methodRefusal, type RejectReason } from '../http1/index.ts';

export interface H2Refusal {
  reason: RejectReason;
  status: number;
  message: string;
}

/** Why the request is refused, or undefined when the rules allow it. */
export function h2Refusal(headers: IncomingHttpHeaders, limits: Http1Limits): H2Refusal | undefined {
  const method = headers[':method'] ?? '';
  if (method.length > limits.maxMethodBytes) {
    return {
      reason: 'method-too-long',
      status: 501,
      message: methodRefusal(method, true, limits.maxMethodBytes),
    };
  }
  if (!limits.methods.has(method)) {
    return {
      reason: 'method-unknown',
      status: 501,
      message: methodRefusal(method, false, limits.maxMethodBytes),
    };
  }
  const action = limits.headersWithUnderscoresAction;
  for (const name of Object.keys(headers)) {
    if (!name.includes('_')) continue;
    if (isFramingLookalike(name)) {
      return {
        reason: 'header-name-lookalike',
        status: 400,
        message: `header name ${JSON.stringify(name)} spells a framing header with underscores`,
      };
    }
    if (action === 'REJECT_REQUEST') {
      return {
        reason: 'header-name-underscore',
        status: 400,
        message: `header name ${JSON.stringify(name)} holds an underscore (apps may read it as a hyphen); set MeshConfig http.headersWithUnderscoresAction to DROP_HEADER or ALLOW to accept it`,
      };
    }
  }
  return undefined;
}
