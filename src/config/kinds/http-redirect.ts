// Istio's HTTPRedirect (a VirtualService route's `redirect`), checked as validateHTTPRedirect does.
// That `prefixRewrite` needs prefix URI matches depends on the route, so http-route.ts checks it.

import { type Infer, int, obj, str } from '../schema.ts';

export const httpRedirect = obj(
  {
    uri: str(),
    authority: str(),
    /** 0 keeps the request's port; otherwise 1-65535. */
    port: int({
      min: 0,
      max: 4294967295,
      refine: (v, c) => {
        if (v > 65535) c.error(`must be a port number between 1 and 65535, got ${v}`);
      },
    }),
    derivePort: str({ enum: ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] }),
    scheme: str({
      refine: (v, c) => {
        if (v !== '' && v !== 'http' && v !== 'https')
          c.error(`must be "http" or "https", got ${JSON.stringify(v)}`);
      },
    }),
    redirectCode: int({
      min: 0,
      max: 4294967295,
      refine: (v, c) => {
        if (v !== 0 && (v < 300 || v > 399)) c.error(`must be a 3xx status code, got ${v}`);
      },
    }),
    prefixRewrite: str(),
  },
  {
    name: 'a redirect',
    oneOf: [['port', 'derivePort']],
    refine: (v, c) => {
      if (v.uri && v.prefixRewrite)
        c.error('only one of uri, prefixRewrite may be set, got uri and prefixRewrite');
      if (
        !v.uri &&
        !v.prefixRewrite &&
        !v.authority &&
        !v.scheme &&
        v.port === undefined &&
        v.derivePort === undefined
      ) {
        c.error('must set at least one of uri, prefixRewrite, authority, scheme, port, derivePort');
      }
    },
  },
);

export type HTTPRedirect = Infer<typeof httpRedirect>;
