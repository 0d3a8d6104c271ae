import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A DestinationRule in namespace `default` whose spec is `spec`, written indented by two spaces. */
function doc(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
${spec}
`;
}

const good: AcceptCase[] = [
  {
    name: 'subsets by version label, as Bookinfo writes them',
    yaml: doc(`  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
    trafficPolicy:
      loadBalancer:
        simple: RANDOM`),
  },
  {
    name: 'every version Istio serves',
    yaml: doc('  host: reviews.prod.svc.cluster.local', 'networking.istio.io/v1alpha3'),
  },
  { name: 'v1beta1', yaml: doc('  host: "*.example.com"', 'networking.istio.io/v1beta1') },
  { name: 'the wildcard host "*"', yaml: doc('  host: "*"') },
  { name: 'a partial wildcard first label, which Istio accepts', yaml: doc('  host: "*foo.example.com"') },
  {
    name: 'an upper-case subset name, which Istio accepts',
    yaml: doc('  host: a\n  subsets:\n  - name: V1'),
  },
  {
    name: 'a workload selector exported only to this namespace',
    yaml: doc(`  host: reviews
  workloadSelector:
    matchLabels:
      app: productpage
  exportTo: ["."]
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL`),
  },
  {
    name: 'a workload selector exported to this namespace by name',
    yaml: doc('  host: a\n  workloadSelector:\n    matchLabels:\n      app: x\n  exportTo: [default]'),
  },
  { name: 'exportTo every namespace without a selector', yaml: doc('  host: a\n  exportTo: ["*"]') },
  {
    name: 'a workload selector without matchLabels, with a warning',
    yaml: doc('  host: a\n  workloadSelector: {}'),
    warning: { path: 'spec.workloadSelector', message: /selects every workload/ },
  },
  {
    name: 'a per-port policy with a port Istio lets through, with a warning',
    yaml: doc(`  host: a
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 70000
      loadBalancer:
        simple: ROUND_ROBIN`),
    warning: { path: 'spec.trafficPolicy.portLevelSettings[0].port.number', message: /matches no port/ },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'a spec when host is missing',
    yaml: doc('  subsets: []'),
    path: 'spec.host',
    message: /is required/,
  },
  {
    name: 'a host with an underscore',
    yaml: doc('  host: bad_host.example.com'),
    path: 'spec.host',
    message: /must be a DNS name .*label "bad_host"/,
  },
  {
    name: 'an IP address as host',
    yaml: doc('  host: 10.0.0.1'),
    path: 'spec.host',
    message: /top-level domain is not all digits/,
  },
  {
    name: 'a wildcard in the middle of the host',
    yaml: doc('  host: foo.*.com'),
    path: 'spec.host',
    message: /label "\*"/,
  },
  {
    name: 'a subset name when two subsets share it',
    yaml: doc('  host: a\n  subsets:\n  - name: v1\n  - name: v1'),
    path: 'spec.subsets[1].name',
    message: /duplicate subset name "v1"/,
  },
  {
    name: 'a subset name when it is not a DNS label',
    yaml: doc('  host: a\n  subsets:\n  - name: v1.0'),
    path: 'spec.subsets[0].name',
    message: /must be a DNS-1123 label .*got "v1.0"/,
  },
  {
    name: 'a subset when its name is missing',
    yaml: doc('  host: a\n  subsets:\n  - labels:\n      version: v1'),
    path: 'spec.subsets[0].name',
    message: /is required/,
  },
  {
    name: 'a subset label when its value has a space',
    yaml: doc('  host: a\n  subsets:\n  - name: v1\n    labels:\n      version: "v 1"'),
    path: 'spec.subsets[0].labels.version',
    message: /label value/,
  },
  {
    name: 'a subset traffic policy when it is empty',
    yaml: doc('  host: a\n  subsets:\n  - name: v1\n    trafficPolicy: {}'),
    path: 'spec.subsets[0].trafficPolicy',
    message: /must set at least one setting/,
  },
  {
    name: 'exportTo "*" when workloadSelector is set',
    yaml: doc('  host: a\n  workloadSelector:\n    matchLabels:\n      app: x\n  exportTo: ["*"]'),
    path: 'spec.exportTo',
    message: /must be "\." \(this namespace\) when workloadSelector is set, got "\*"/,
  },
  {
    name: 'exportTo with a second namespace when workloadSelector is set',
    yaml: doc('  host: a\n  workloadSelector:\n    matchLabels:\n      app: x\n  exportTo: [".", other]'),
    path: 'spec.exportTo',
    message: /must have only "\." \(this namespace\) when workloadSelector is set/,
  },
  {
    name: 'exportTo is "~", which only ServiceEntry allows',
    yaml: doc('  host: a\n  exportTo: ["~"]'),
    path: 'spec.exportTo[0]',
    message: /"~" \(none\) is not allowed here/,
  },
  {
    name: 'exportTo when it names this namespace twice, by name and as "."',
    yaml: doc('  host: a\n  exportTo: [default, "."]'),
    path: 'spec.exportTo[1]',
    message: /duplicate entries "\." and "default"/,
  },
  {
    name: 'a misspelt field, suggesting the right name',
    yaml: doc('  host: a\n  trafficPolicy:\n    loadbalancer:\n      simple: RANDOM'),
    path: 'spec.trafficPolicy.loadbalancer',
    message: /unknown field \(did you mean "loadBalancer"\?\)/,
  },
];

describe('DestinationRule', () => {
  runKindTable('DestinationRule', { good, bad });

  it('stores the preferred version and lists the host for `alder get`', () => {
    const result = load(doc('  host: reviews', 'networking.istio.io/v1alpha3'));
    const loaded = result.resources[0];
    assert.ok(loaded);
    assert.equal(loaded.resource.apiVersion, 'networking.istio.io/v1');
    const columns = loaded.info.printerColumns?.map((col) => [col.header, col.value(loaded.resource)]);
    assert.deepEqual(columns, [['Host', 'reviews']]);
  });

  it('refuses a DestinationRule without spec, since it has no host', () => {
    const { errors } = load(doc('').replace('spec:\n', ''));
    assert.deepEqual(
      errors.map((e) => `${e.path}: ${e.message}`),
      ['spec: is required'],
    );
  });

  it('prints an error with file, line, object and field path', () => {
    const { errors } = load(doc('  host: reviews\n  subsets:\n  - name: v1\n  - name: v1'));
    assert.deepEqual(errors.map(formatFinding), [
      'x.yaml:10 DestinationRule default/reviews: spec.subsets[1].name: duplicate subset name "v1"',
    ]);
  });
});
