import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

function doc(spec: string, apiVersion = 'security.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: RequestAuthentication
metadata:
  name: ra
  namespace: default
spec:${spec}
`;
}

/** A policy with one JWT rule made of the given fields (YAML, indented for the rule). */
function rule(fields: string): string {
  return doc(`
  jwtRules:
  - ${fields}`);
}

const PUBLIC_JWKS = JSON.stringify({ keys: [{ kty: 'RSA', e: 'AQAB', n: 'xAE7eB6q', kid: 'k1' }] });
const PRIVATE_JWKS = JSON.stringify({ keys: [{ kty: 'RSA', e: 'AQAB', n: 'xAE7eB6q', d: 'jJVK' }] });

const good: AcceptCase[] = [
  {
    name: 'a rule using every field',
    yaml: doc(`
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: https://issuer.example.com
    audiences: ["bookinfo", "api"]
    jwksUri: https://issuer.example.com/.well-known/jwks.json
    fromHeaders:
    - name: Authorization
      prefix: "Bearer "
    - name: x-jwt
    fromParams: ["access_token"]
    fromCookies: ["session"]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - header: x-user
      claim: sub
    - header: x_group
      claim: groups.admin
    spaceDelimitedClaims: ["scope"]
    presence: REQUIRED
    timeout: 5s`),
  },
  { name: 'a rule with only an issuer', yaml: rule('issuer: example.com') },
  { name: 'a rule with a jwksUri and no issuer', yaml: rule('jwksUri: http://jwks.example.com:8080/keys') },
  { name: 'the snake_case jwks_uri', yaml: rule('issuer: a\n    jwks_uri: https://example.com/keys') },
  { name: 'an inline public JWKS', yaml: rule(`issuer: a\n    jwks: '${PUBLIC_JWKS}'`) },
  {
    name: 'an inline JWKS with a private key, with a warning',
    yaml: rule(`issuer: a\n    jwks: '${PRIVATE_JWKS}'`),
    warning: { path: 'spec.jwtRules[0].jwks', message: /key 0 contains private key material/ },
  },
  {
    name: 'a targetRef to a Gateway, with a warning',
    warning: { path: 'spec.targetRef', message: /a Gateway target is not enforced/ },
    yaml: doc(`
  targetRef:
    group: gateway.networking.k8s.io
    kind: Gateway
    name: ingress
  jwtRules:
  - issuer: a`),
  },
  { name: 'no rules at all', yaml: doc(' {}') },
  { name: 'v1beta1', yaml: rule('issuer: a').replace('security.istio.io/v1', 'security.istio.io/v1beta1') },
];

const bad: RefuseCase[] = [
  {
    name: 'a rule when it has neither issuer nor jwksUri',
    yaml: rule('audiences: ["a"]'),
    path: 'spec.jwtRules[0].issuer',
    message: /is required unless jwksUri is set/,
  },
  {
    name: 'an empty issuer',
    yaml: rule('issuer: ""'),
    path: 'spec.jwtRules[0].issuer',
    message: /must not be empty/,
  },
  {
    name: 'an empty audience',
    yaml: rule('issuer: a\n    audiences: [""]'),
    path: 'spec.jwtRules[0].audiences[0]',
    message: /must not be empty/,
  },
  {
    name: 'a jwksUri without a scheme',
    yaml: rule('issuer: a\n    jwksUri: foo.com'),
    path: 'spec.jwtRules[0].jwksUri',
    message: /must be an absolute http:\/\/ or https:\/\/ URL, got "foo.com"/,
  },
  {
    name: 'a jwksUri with another scheme',
    yaml: rule('issuer: a\n    jwksUri: ftp://example.com/keys'),
    path: 'spec.jwtRules[0].jwksUri',
    message: /must use the http or https scheme, got "ftp"/,
  },
  {
    name: 'a jwksUri with a port that is not a number',
    yaml: rule('issuer: a\n    jwksUri: "https://foo.com:not-a-number"'),
    path: 'spec.jwtRules[0].jwksUri',
    message: /absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'both jwks and jwksUri',
    yaml: rule(`issuer: a\n    jwksUri: https://a.example.com/k\n    jwks: '${PUBLIC_JWKS}'`),
    path: 'spec.jwtRules[0]',
    message: /only one of jwks, jwksUri, jwks_uri may be set, got jwks and jwksUri/,
  },
  {
    name: 'inline jwks that is not JSON',
    yaml: rule('issuer: a\n    jwks: foo'),
    path: 'spec.jwtRules[0].jwks',
    message: /must be a JSON Web Key Set/,
  },
  {
    name: 'inline jwks with a key of unknown type',
    yaml: rule(`issuer: a\n    jwks: '{"keys":[{"kty":"XYZ"}]}'`),
    path: 'spec.jwtRules[0].jwks',
    message: /key 0 must have "kty" RSA, EC, OKP or oct/,
  },
  {
    name: 'a header location without a name',
    yaml: rule('issuer: a\n    fromHeaders:\n    - prefix: baz'),
    path: 'spec.jwtRules[0].fromHeaders[0].name',
    message: /is required/,
  },
  {
    name: 'an empty query parameter name',
    yaml: rule('issuer: a\n    fromParams: [""]'),
    path: 'spec.jwtRules[0].fromParams[0]',
    message: /must not be empty/,
  },
  {
    name: 'an empty cookie name',
    yaml: rule('issuer: a\n    fromCookies: [""]'),
    path: 'spec.jwtRules[0].fromCookies[0]',
    message: /must not be empty/,
  },
  {
    name: 'a claim header that is not a plain header name',
    yaml: rule('issuer: a\n    outputClaimToHeaders:\n    - claim: x\n      header: ":authority"'),
    path: 'spec.jwtRules[0].outputClaimToHeaders[0].header',
    message: /must be a header name of letters, digits, '-' and '_', got ":authority"/,
  },
  {
    name: 'a claim-to-header mapping without a claim',
    yaml: rule('issuer: a\n    outputClaimToHeaders:\n    - header: x-user'),
    path: 'spec.jwtRules[0].outputClaimToHeaders[0].claim',
    message: /is required/,
  },
  {
    name: 'a timeout that is not a duration',
    yaml: rule('issuer: a\n    timeout: apple'),
    path: 'spec.jwtRules[0].timeout',
    message: /must be a duration/,
  },
  {
    name: 'a timeout below a millisecond',
    yaml: rule('issuer: a\n    timeout: 500us'),
    path: 'spec.jwtRules[0].timeout',
    message: /at least 1ms/,
  },
  {
    name: 'an unknown presence',
    yaml: rule('issuer: a\n    presence: MANDATORY'),
    path: 'spec.jwtRules[0].presence',
    message: /must be one of OPTIONAL, REQUIRED, got "MANDATORY"/,
  },
  {
    name: 'an empty space-delimited claim',
    yaml: rule('issuer: a\n    spaceDelimitedClaims: [""]'),
    path: 'spec.jwtRules[0].spaceDelimitedClaims[0]',
    message: /must not be empty/,
  },
  {
    name: 'a selector together with targetRefs',
    yaml: doc('\n  selector:\n    matchLabels:\n      a: b\n  targetRefs:\n  - kind: Service\n    name: foo'),
    path: 'spec',
    message: /only one of selector, targetRef, targetRefs may be set, got selector and targetRefs/,
  },
  {
    name: 'a targetRef kind that is not a kind name',
    yaml: doc('\n  targetRef:\n    group: ""\n    kind: Serv_ice\n    name: foo'),
    path: 'spec.targetRef.kind',
    message: /must be a kind name/,
  },
  {
    name: 'a targetRef group that is not a DNS name',
    yaml: doc('\n  targetRef:\n    group: "__"\n    kind: Service\n    name: foo'),
    path: 'spec.targetRef.group',
    message: /must be empty \(the core group\) or a lowercase DNS subdomain/,
  },
  {
    name: 'a misspelt field',
    yaml: rule('issuer: a\n    jwksURI: https://a.example.com/k'),
    path: 'spec.jwtRules[0].jwksURI',
    message: /unknown field \(did you mean "jwksUri"\?\)/,
  },
];

describe('RequestAuthentication', () => {
  runKindTable('RequestAuthentication', { good, bad });

  it('RequestAuthentication: prints a refused jwksUri with its file line, object and field', () => {
    const r = load(rule('issuer: a\n    jwksUri: ftp://example.com/keys'));
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:9 RequestAuthentication default/ra: spec.jwtRules[0].jwksUri: must use the http or https scheme, got "ftp"',
    ]);
  });
});
