import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from './compile.test-kit.ts';

const ap = (
  name: string,
  namespace: string,
  spec: string,
  annotations = '',
) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${namespace}${annotations}}
spec: ${spec}
`;

const POLICIES = [
  ap('mesh-wide', 'alder-system', '{action: DENY, rules: [{from: [{source: {namespaces: [evil]}}]}]}'),
  ap('ns-wide', 'shop', '{}'),
  ap('for-client', 'shop', '{selector: {matchLabels: {app: client}}, rules: [{}]}'),
  ap('for-reviews', 'shop', '{selector: {matchLabels: {app: reviews}}, rules: [{}]}'),
  ap('root-selector', 'alder-system', '{action: AUDIT, selector: {matchLabels: {tier: web}}, rules: [{}]}'),
  ap('other-ns', 'books', '{}'),
  ap('svc-target', 'shop', '{targetRefs: [{kind: Service, group: "", name: ratings}], rules: [{}]}'),
  ap('custom', 'shop', '{action: CUSTOM, provider: {name: ext}, rules: [{}]}'),
  ap('dry', 'shop', '{action: DENY, rules: [{}]}', ', annotations: {istio.io/dry-run: "true"}'),
].join('---\n');

describe('compile: authorization policies', () => {
  it('authorization: a workload gets the mesh-wide, namespace, selected and targeting policies, not CUSTOM ones', () => {
    const client = compile(POLICIES).authorization ?? [];
    assert.deepEqual(
      client.map((p) => `${p.name} ${p.action}${p.dryRun ? ' dry-run' : ''}`),
      [
        'alder-system/mesh-wide DENY',
        'alder-system/root-selector AUDIT',
        'shop/dry DENY dry-run',
        'shop/for-client ALLOW',
        'shop/ns-wide ALLOW',
      ],
      'want the policies in force on shop/client, sorted by name',
    );
    const ratings = compile(POLICIES, { namespace: 'shop', name: 'ratings-v1' }).authorization ?? [];
    assert.ok(
      ratings.some((p) => p.name === 'shop/svc-target'),
      `want the Service target to pick ratings' workloads, got ${ratings.map((p) => p.name)}`,
    );
    assert.deepEqual(client.find((p) => p.name === 'alder-system/mesh-wide')?.rules, [
      { from: [{ namespaces: ['evil'] }], to: [], when: [] },
    ]);
  });

  it('authorization: no policy in scope leaves the snapshot without authorization', () => {
    assert.equal(compile('').authorization, undefined);
  });
});
