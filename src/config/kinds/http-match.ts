// HTTPMatchRequest of a VirtualService HTTP route, checked as Istio's validateHTTPRouteMatchRequest
// does: header names (with `@request.auth.claims` JWT claims), string matches, port, source labels,
// gateways and source namespace. Whether JWT claims may be used depends on the whole
// VirtualService, so virtual-service.ts checks that.

import { arr, bool, type Infer, int, obj, record, type Schema, str } from '../schema.ts';
import { httpStringMatch, stringMatchValue } from './http-string-match.ts';
import { checkGatewayName, isIstioLabel } from './istio-hosts.ts';
import { sourceLabels } from './istio-labels.ts';

const JWT_CLAIM_PREFIX = '@request.auth.claims';

/** Istio's jwt.ToRoutingClaim(...).Match: `@request.auth.claims.sub` or `@request.auth.claims[sub]`. */
export function isJwtClaimHeader(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return false;
  const rest = name.slice(JWT_CLAIM_PREFIX.length);
  return (
    (rest.startsWith('.') && rest.length > 1) ||
    (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2)
  );
}

const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

/** Istio's ValidateHTTPHeaderNameOrJwtClaimRoute. */
const matchHeaderName: Schema<string> = {
  expected: 'a header name',
  check(value, c) {
    const name = String(value);
    if (name === '') {
      c.error('header name must not be empty');
      return false;
    }
    if (isJwtClaimHeader(name) || PSEUDO_HEADERS.has(name) || TOKEN.test(name)) return true;
    c.error(
      `must be a header name (letters, digits and !#$%&'*+-.^_\`|~), a pseudo-header such as ":path", or a JWT claim such as "@request.auth.claims.sub", got ${JSON.stringify(name)}`,
    );
    return false;
  },
};

/** A port a match applies to; 0, like leaving it out, matches every port. */
export const matchPort: Schema<number> = int({
  min: 0,
  max: 65535,
});

/** Gateway references: `mesh`, `namespace/name` or a name in this namespace. */
export const gatewayNames = arr(str({ refine: (v, c) => checkGatewayName(v, c) }));

export const httpMatchRequest = obj(
  {
    name: str(),
    uri: httpStringMatch({ allowEmptyPrefix: true }),
    scheme: stringMatchValue,
    method: stringMatchValue,
    authority: stringMatchValue,
    headers: record(stringMatchValue, { key: matchHeaderName }),
    port: matchPort,
    sourceLabels,
    gateways: gatewayNames,
    queryParams: record(stringMatchValue),
    ignoreUriCase: bool(),
    withoutHeaders: record(httpStringMatch({ allowStarRegex: true }), { key: matchHeaderName }),
    sourceNamespace: str({
      refine: (v, c) => {
        if (v !== '' && !isIstioLabel(v)) c.error(`must be a namespace name, got ${JSON.stringify(v)}`);
      },
    }),
    statPrefix: str(),
  },
  { name: 'an HTTP match request' },
);

export type HTTPMatchRequest = Infer<typeof httpMatchRequest>;
