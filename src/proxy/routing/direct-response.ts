// An HTTPDirectResponse decoded once per snapshot: the status, the body bytes, and the headers
// Envoy's local reply gives it (content-type text/plain when there is a body). The router sends it.

import type { DirectResponseAction } from '../../wire/index.ts';

export interface DirectResponse {
  readonly status: number;
  readonly body: Buffer;
  /** Flat `[name, value, …]`, lower-case names. */
  readonly headers: readonly string[];
}

export function compileDirectResponse(action: DirectResponseAction): DirectResponse {
  const body = Buffer.from(action.bodyBase64 ?? '', 'base64');
  return {
    status: action.status,
    body,
    headers: body.length === 0 ? [] : ['content-type', 'text/plain'],
  };
}
