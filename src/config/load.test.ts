import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding, loadSources } from './load.ts';

function doc(apiVersion: string, kind: string): string {
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\nspec: {}\n`;
}

describe('load: kinds Alder does not manage', () => {
  const cases: { name: string; apiVersion: string; kind: string; want: 'skipped' | RegExp }[] = [
    { name: 'a Kubernetes Deployment', apiVersion: 'apps/v1', kind: 'Deployment', want: 'skipped' },
    { name: "Istio's Telemetry", apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', want: 'skipped' },
    {
      name: "Istio's EnvoyFilter",
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      want: 'skipped',
    },
    {
      name: "Istio's ProxyConfig",
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ProxyConfig',
      want: 'skipped',
    },
    {
      name: 'a misspelt kind in an Istio group',
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualServce',
      want: /unknown kind "VirtualServce" in networking\.istio\.io: did you mean VirtualService\?/,
    },
  ];
  for (const c of cases) {
    it(`load: ${c.name} is ${c.want === 'skipped' ? 'skipped with a notice' : 'an error'}`, () => {
      const result = loadSources([{ name: 'x.yaml', text: doc(c.apiVersion, c.kind) }]);
      const errors = result.errors.map(formatFinding);
      if (c.want === 'skipped') {
        assert.deepEqual(errors, [], `want ${c.apiVersion} ${c.kind} skipped, not refused`);
        assert.deepEqual(result.skipped, [{ apiVersion: c.apiVersion, kind: c.kind, count: 1 }]);
      } else {
        assert.equal(errors.length, 1, `want one error for ${c.kind}, got ${JSON.stringify(errors)}`);
        assert.match(errors[0] ?? '', c.want);
      }
    });
  }
});
