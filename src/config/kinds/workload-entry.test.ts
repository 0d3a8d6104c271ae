import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A WorkloadEntry in namespace `default` whose spec is `spec`, indented by two spaces. */
function doc(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: WorkloadEntry
metadata:
  name: vm1
  namespace: default
spec:
${spec}
`;
}

const good: AcceptCase[] = [
  {
    name: 'a VM with every field',
    yaml: doc(`  address: 10.0.0.5
  ports:
    http: 8080
    grpc-api: 9090
  labels:
    app: details
    version: v1
  network: vm-network
  locality: us-west/zone1/rack3
  weight: 3
  serviceAccount: details`),
  },
  { name: 'a host-name address', yaml: doc('  address: vm1.example.com\n  ports:\n    "7777": 7777') },
  { name: 'an IPv6 address', yaml: doc('  address: "2001:db8::1"') },
  { name: 'an absolute unix socket', yaml: doc('  address: unix:///var/run/app.sock') },
  { name: 'an abstract unix socket', yaml: doc('  address: unix://@app') },
  { name: 'v1beta1', yaml: doc('  address: 1.1.1.1', 'networking.istio.io/v1beta1') },
  { name: 'v1alpha3', yaml: doc('  address: 1.1.1.1', 'networking.istio.io/v1alpha3') },
  {
    name: 'a workload known only by its network, with a warning',
    yaml: doc('  network: west'),
    warning: { path: 'spec.address', message: /reached through the gateway of network "west"/ },
  },
];

const bad: RefuseCase[] = [
  { name: 'an empty spec', yaml: doc('  {}'), path: 'spec.address', message: /is required \(or set network/ },
  {
    name: 'a unix socket path that names a directory',
    yaml: doc('  address: unix:///dir/'),
    path: 'spec.address',
    message: /not a directory/,
  },
  {
    name: 'a relative unix socket path',
    yaml: doc('  address: unix://relative'),
    path: 'spec.address',
    message: /must be an absolute unix socket path/,
  },
  {
    name: 'ports on a unix socket',
    yaml: doc('  address: unix://@foo\n  ports:\n    http: 80'),
    path: 'spec.ports',
    message: /must not be set for a unix socket address/,
  },
  {
    name: 'a port above 65535',
    yaml: doc('  address: 1.1.1.1\n  ports:\n    http: 99999'),
    path: 'spec.ports.http',
    message: /must be between 1 and 65535, got 99999/,
  },
  {
    name: 'a port name that is not a DNS label',
    yaml: doc('  address: 1.1.1.1\n  ports:\n    "@": 80'),
    path: 'spec.ports["@"]',
    message: /must be a port name/,
  },
  {
    name: "a port name of 63 characters, which Istio's CRD refuses",
    yaml: doc(`  address: 1.1.1.1\n  ports:\n    ${'p'.repeat(63)}: 80`),
    path: `spec.ports.${'p'.repeat(63)}`,
    message: /at most 62 letters/,
  },
  {
    name: 'an address with a port in it',
    yaml: doc('  address: invaliddns.com:9443'),
    path: 'spec.address',
    message: /must be an IP address or a DNS name .*label "com:9443"/,
  },
  {
    name: 'an address that looks like an incomplete IP',
    yaml: doc('  address: 1.2.3'),
    path: 'spec.address',
    message: /top-level domain is not all digits/,
  },
  {
    name: 'a label key starting with a dash',
    yaml: doc('  address: 1.1.1.1\n  labels:\n    -bad: x'),
    path: 'spec.labels["-bad"]',
    message: /label key/,
  },
  {
    name: 'a negative weight',
    yaml: doc('  address: 1.1.1.1\n  weight: -1'),
    path: 'spec.weight',
    message: /must be between 0 and 4294967295, got -1/,
  },
  {
    name: 'a misspelt field',
    yaml: doc('  adress: 1.1.1.1'),
    path: 'spec.adress',
    message: /unknown field \(did you mean "address"\?\)/,
  },
];

describe('WorkloadEntry', () => {
  runKindTable('WorkloadEntry', { good, bad });

  it("refuses a WorkloadEntry without spec, as Istio's CRD requires one", () => {
    const { errors } = load(doc('').replace('spec:\n', ''));
    assert.deepEqual(
      errors.map((e) => `${e.path}: ${e.message}`),
      ['spec: is required'],
    );
  });

  it('lists the address for `alder get`', () => {
    const loaded = load(doc('  address: 10.0.0.5')).resources[0];
    assert.ok(loaded);
    const columns = loaded.info.printerColumns?.map((col) => [col.header, col.value(loaded.resource)]);
    assert.deepEqual(columns, [['Address', '10.0.0.5']]);
  });

  it('prints an error with file, line, object and field path', () => {
    const { errors } = load(doc('  address: 1.1.1.1\n  ports:\n    http: 99999'));
    assert.deepEqual(errors.map(formatFinding), [
      'x.yaml:9 WorkloadEntry default/vm1: spec.ports.http: must be between 1 and 65535, got 99999',
    ]);
  });
});
