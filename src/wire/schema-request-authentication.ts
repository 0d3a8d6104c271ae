// The schema of the JWT rules a snapshot carries (request-authentication.ts).

import { schema as s } from '../config/core.ts';
import { name, positiveMs, strings } from './schema-common.ts';

export const jwtRules = s.arr(
  s.obj(
    {
      policy: name,
      issuer: name,
      audiences: strings,
      jwksUri: name,
      jwks: s.str(),
      fromHeaders: s.arr(s.obj({ name, prefix: s.str() }, { required: ['name', 'prefix'] })),
      fromParams: s.arr(name),
      fromCookies: s.arr(name),
      outputPayloadToHeader: name,
      outputClaimToHeaders: s.arr(s.obj({ header: name, claim: name }, { required: ['header', 'claim'] })),
      forwardOriginalToken: s.bool(),
      spaceDelimitedClaims: s.arr(name),
      timeoutMs: positiveMs,
    },
    {
      required: [
        'policy',
        'audiences',
        'fromHeaders',
        'fromParams',
        'fromCookies',
        'outputClaimToHeaders',
        'forwardOriginalToken',
        'spaceDelimitedClaims',
        'timeoutMs',
      ],
    },
  ),
);
