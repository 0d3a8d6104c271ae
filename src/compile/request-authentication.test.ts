import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from './compile.test-kit.ts';

const ra = (name: string, namespace: string, spec: string) => `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${spec}
`;

const POLICIES = [
  ra(
    'mesh-wide',
    'alder-system',
    '{jwtRules: [{issuer: https://root.example, jwksUri: https://root.example/keys}]}',
  ),
  ra('ns-wide', 'shop', `{jwtRules: [{issuer: a, jwks: '{"keys":[]}', timeout: 2s}]}`),
  ra(
    'for-client',
    'shop',
    '{selector: {matchLabels: {app: client}}, jwtRules: [{issuer: c, jwks_uri: http://c/k}]}',
  ),
  ra('for-reviews', 'shop', '{selector: {matchLabels: {app: reviews}}, jwtRules: [{issuer: r}]}'),
  ra('other-ns', 'books', '{jwtRules: [{issuer: b}]}'),
  ra(
    'svc-target',
    'shop',
    '{targetRefs: [{kind: Service, group: "", name: ratings}], jwtRules: [{issuer: t}]}',
  ),
].join('---\n');

describe('compile: request authentication', () => {
  it('request authentication: a workload gets the rules of mesh-wide, namespace, selected and targeting policies', () => {
    const client = compile(POLICIES).requestAuthentication ?? [];
    assert.deepEqual(
      client.map((r) => `${r.policy} ${r.issuer}`),
      ['alder-system/mesh-wide https://root.example', 'shop/for-client c', 'shop/ns-wide a'],
      'want the rules in force on shop/client, by policy name',
    );
    const ratings = compile(POLICIES, { namespace: 'shop', name: 'ratings-v1' }).requestAuthentication ?? [];
    assert.ok(
      ratings.some((r) => r.policy === 'shop/svc-target'),
      `want the Service target to pick ratings' workloads, got ${ratings.map((r) => r.policy)}`,
    );
  });

  it('request authentication: defaults made explicit, jwks_uri read as jwksUri, timeout in ms', () => {
    const client = compile(POLICIES).requestAuthentication ?? [];
    assert.deepEqual(
      client.find((r) => r.policy === 'shop/ns-wide'),
      {
        policy: 'shop/ns-wide',
        issuer: 'a',
        jwks: '{"keys":[]}',
        audiences: [],
        fromHeaders: [],
        fromParams: [],
        fromCookies: [],
        outputClaimToHeaders: [],
        forwardOriginalToken: false,
        spaceDelimitedClaims: [],
        timeoutMs: 2000,
      },
      'want the inline set as written and every default explicit',
    );
    const c = client.find((r) => r.policy === 'shop/for-client');
    assert.equal(c?.jwksUri, 'http://c/k', 'want jwks_uri carried as jwksUri');
    assert.equal(c?.timeoutMs, 5000, "want Istio's 5 s fetch timeout by default");
  });

  it('request authentication: no policy in scope leaves the snapshot without rules', () => {
    assert.equal(compile('').requestAuthentication, undefined);
  });
});
