// Istio's RequestAuthentication (security.istio.io): the JWTs a workload accepts, where to find them
// and what to forward. Ports the CRD schema (lengths, patterns, CEL rules) and Istio's
// ValidateRequestAuthentication / validateJwtRule. Fetching JWKS and verifying tokens is the proxy's
// (src/proxy/jwt).

import type { KindInfo } from '../kind-info.ts';
import { arr, bool, type Checker, type Infer, isPlainObject, obj, str } from '../schema.ts';
import { workloadSelector } from './common.ts';
import { istioDuration } from './istio-duration.ts';
import {
  policyTargetReference,
  policyTargetReferences,
  warnEmptySelector,
} from './policy-target-reference.ts';

const nonEmpty = str({ minLength: 1 });

const jwksUri = str({
  minLength: 1,
  maxLength: 2048,
  refine: (v, c) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      c.error(`must be an absolute http:// or https:// URL, got ${JSON.stringify(v)}`);
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      c.error(`must use the http or https scheme, got ${JSON.stringify(url.protocol.slice(0, -1))}`);
    }
  },
});

const KEY_TYPES = new Set(['RSA', 'EC', 'OKP', 'oct']);

/** A JSON Web Key Set (or one key), as Istio's jwk.Parse reads it; warns on private key material. */
const jwks = str({
  refine: (v, c) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      c.error(`must be a JSON Web Key Set: ${(err as Error).message}`);
      return;
    }
    if (!isPlainObject(parsed)) {
      c.error('must be a JSON Web Key Set: a JSON object with "keys"');
      return;
    }
    const keys = 'keys' in parsed ? parsed.keys : [parsed];
    if (!Array.isArray(keys)) {
      c.error('must be a JSON Web Key Set: "keys" must be a list');
      return;
    }
    keys.forEach((key: unknown, i) => {
      const kty = isPlainObject(key) ? key.kty : undefined;
      if (typeof kty !== 'string' || !KEY_TYPES.has(kty)) {
        c.error(`must be a JSON Web Key Set: key ${i} must have "kty" RSA, EC, OKP or oct`);
      } else if (kty === 'oct' || (isPlainObject(key) && key.d !== undefined)) {
        c.warn(
          `key ${i} contains private key material; only public keys are used to verify tokens: remove it`,
        );
      }
    });
  },
});

export const jwtHeader = obj(
  { name: nonEmpty, prefix: str() },
  { name: 'a header location', required: ['name'] },
);

export const claimToHeader = obj(
  {
    header: str({
      minLength: 1,
      pattern: /^[-_A-Za-z0-9]+$/,
      patternHint: "a header name of letters, digits, '-' and '_'",
    }),
    claim: nonEmpty,
  },
  { name: 'a claim-to-header mapping', required: ['header', 'claim'] },
);

export const jwtRule = obj(
  {
    issuer: nonEmpty,
    audiences: arr(nonEmpty),
    jwksUri,
    jwks_uri: jwksUri,
    jwks,
    fromHeaders: arr(jwtHeader),
    fromParams: arr(nonEmpty),
    fromCookies: arr(nonEmpty),
    outputPayloadToHeader: str(),
    forwardOriginalToken: bool(),
    outputClaimToHeaders: arr(claimToHeader),
    spaceDelimitedClaims: arr(nonEmpty, { maxItems: 64 }),
    presence: str({ enum: ['OPTIONAL', 'REQUIRED'] }),
    timeout: istioDuration(),
  },
  {
    name: 'a JWT rule',
    oneOf: [['jwks', 'jwksUri', 'jwks_uri']],
    refine: (v, c) => {
      if (v.issuer === undefined && v.jwksUri === undefined && v.jwks_uri === undefined) {
        c.error('is required unless jwksUri is set', 'issuer');
      }
    },
  },
);

export type JwtRule = Infer<typeof jwtRule>;

export const requestAuthenticationSpec = obj(
  {
    selector: workloadSelector,
    targetRef: policyTargetReference,
    targetRefs: policyTargetReferences,
    jwtRules: arr(jwtRule, { maxItems: 4096 }),
  },
  {
    name: 'a RequestAuthentication spec',
    oneOf: [['selector', 'targetRef', 'targetRefs']],
    refine: (v, c: Checker) => {
      warnEmptySelector(v.selector, c);
      if (v.targetRef !== undefined && v.targetRef.kind !== 'Service')
        warnTarget(v.targetRef.kind, 'targetRef', c);
      for (const t of v.targetRefs ?? []) if (t.kind !== 'Service') warnTarget(t.kind, 'targetRefs', c);
    },
  },
);

/** Alder has no gateway or waypoint proxies: only a Service target picks the workloads a policy applies to. */
function warnTarget(kind: string, field: string, c: Checker): void {
  c.warn(
    `a ${kind} target is not enforced: only a Service target picks the workloads a policy applies to`,
    field,
  );
}

export type RequestAuthenticationSpec = Infer<typeof requestAuthenticationSpec>;

export const requestAuthentication: KindInfo<RequestAuthenticationSpec> = {
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'requestauthentications',
  shortNames: ['ra'],
  namespaced: true,
  spec: requestAuthenticationSpec,
  specRequired: false,
  // Istio's CRD declares no printer columns for this kind.
  printerColumns: [],
};
