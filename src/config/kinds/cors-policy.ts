// Istio's CorsPolicy (a VirtualService route's `corsPolicy`), checked as validateCORSPolicy does:
// origins as non-empty string matches, methods Go's net/http knows, header names as HTTP tokens,
// maxAge in whole seconds.

import { arr, bool, type Infer, obj, str } from '../schema.ts';
import { httpStringMatch } from './http-string-match.ts';
import { istioDuration } from './istio-duration.ts';

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  '*',
] as const;

const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

/** Istio's ValidateCORSHTTPHeaderName: `*` or an HTTP token. */
const corsHeaderName = str({
  refine: (v, c) => {
    if (v === '') c.error('header name must not be empty');
    else if (v !== '*' && !TOKEN.test(v)) {
      c.error(
        `must be "*" or a header name (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(v)}`,
      );
    }
  },
});

export const corsPolicy = obj(
  {
    /** Deprecated exact origins; used only when allowOrigins is empty. */
    allowOrigin: arr(str()),
    allowOrigins: arr(httpStringMatch({ requireValue: true, name: 'an origin match' })),
    allowMethods: arr(
      str({
        refine: (v, c) => {
          if (!(METHODS as readonly string[]).includes(v)) {
            c.error(`must be an HTTP method, one of ${METHODS.join(', ')}, got ${JSON.stringify(v)}`);
          }
        },
      }),
    ),
    allowHeaders: arr(corsHeaderName),
    exposeHeaders: arr(corsHeaderName),
    maxAge: istioDuration({ wholeSeconds: true }),
    allowCredentials: bool(),
    unmatchedPreflights: str({ enum: ['UNSPECIFIED', 'FORWARD', 'IGNORE'] }),
  },
  { name: 'a CORS policy' },
);

export type CorsPolicy = Infer<typeof corsPolicy>;
