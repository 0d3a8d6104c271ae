import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, indent, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A WorkloadGroup in namespace `default` whose spec is `spec` (any margin). */
function doc(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: WorkloadGroup
metadata:
  name: reviews
  namespace: default
spec:
${indent(spec)}
`;
}

/** A group whose probe is `probe` (indented under `probe:`). */
function withProbe(probe: string): string {
  return doc(`
    template:
      serviceAccount: reviews
    probe:
${probe}`);
}

/** The example of Istio's WorkloadGroup reference, as its documentation gives it. */
const ISTIO_EXAMPLE = `apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: reviews
  namespace: bookinfo
spec:
  metadata:
    labels:
      app.kubernetes.io/name: reviews
      app.kubernetes.io/version: "1.3.4"
  template:
    ports:
      grpc: 3550
      http: 8080
    serviceAccount: default
  probe:
    initialDelaySeconds: 5
    timeoutSeconds: 3
    periodSeconds: 4
    successThreshold: 3
    failureThreshold: 3
    httpGet:
     path: /foo/bar
     host: 127.0.0.1
     port: 3100
     scheme: HTTPS
     httpHeaders:
     - name: Lit-Header
       value: Im-The-Best
`;

const good: AcceptCase[] = [
  { name: "Istio's documented example", yaml: ISTIO_EXAMPLE },
  { name: 'v1beta1', yaml: doc('template: {}', 'networking.istio.io/v1beta1') },
  { name: 'v1alpha3', yaml: doc('template: {}', 'networking.istio.io/v1alpha3') },
  {
    name: 'a template with every field but address',
    yaml: doc(`
      metadata:
        annotations:
          example.com/owner: team-a
      template:
        ports: {http: 9080}
        labels: {app: reviews}
        network: vm-net
        locality: us-west/zone1
        weight: 2
        serviceAccount: reviews`),
  },
  { name: 'a tcpSocket probe', yaml: withProbe('      tcpSocket: {host: 127.0.0.1, port: 9080}') },
  { name: 'an exec probe', yaml: withProbe('      exec: {command: [sh, -c, "exit 0"]}') },
  { name: 'a grpc probe', yaml: withProbe('      grpc: {port: 9090, service: shop.Cart}') },
  {
    name: 'an httpGet probe with every timing field 0 (the defaults)',
    yaml: withProbe(`      initialDelaySeconds: 0
      timeoutSeconds: 0
      periodSeconds: 0
      successThreshold: 0
      failureThreshold: 0
      httpGet: {port: 80, scheme: HTTP}`),
  },
];

const bad: RefuseCase[] = [
  {
    name: 'a template that sets address',
    yaml: doc('template: {address: 10.0.0.5}'),
    path: 'spec.template.address',
    message:
      /must not be set in a WorkloadGroup template: each WorkloadEntry takes the address its proxy joins/,
  },
  {
    name: 'a spec without template',
    yaml: doc('metadata: {labels: {app: reviews}}'),
    path: 'spec.template',
    message: /is required/,
  },
  {
    name: 'a template port above 65535',
    yaml: doc('template: {ports: {http: 70000}}'),
    path: 'spec.template.ports.http',
    message: /must be between 1 and 65535, got 70000/,
  },
  {
    name: 'a metadata label that is not a label value',
    yaml: doc('metadata: {labels: {app: "a b"}}\ntemplate: {}'),
    path: 'spec.metadata.labels.app',
    message: /label value/,
  },
  {
    name: 'a probe without a handler',
    yaml: withProbe('      periodSeconds: 5'),
    path: 'spec.probe',
    message: /must set one of httpGet, tcpSocket, exec, grpc/,
  },
  {
    name: 'a probe with two handlers',
    yaml: withProbe('      tcpSocket: {port: 80}\n      exec: {command: ["true"]}'),
    path: 'spec.probe',
    message: /only one of httpGet, tcpSocket, exec, grpc may be set, got tcpSocket and exec/,
  },
  {
    name: 'a negative period',
    yaml: withProbe('      periodSeconds: -1\n      tcpSocket: {port: 80}'),
    path: 'spec.probe.periodSeconds',
    message: /must be between 0 and 2147483647, got -1/,
  },
  {
    name: 'an httpGet without port',
    yaml: withProbe('      httpGet: {path: /healthz}'),
    path: 'spec.probe.httpGet.port',
    message: /is required/,
  },
  {
    name: 'an httpGet port of 0',
    yaml: withProbe('      httpGet: {port: 0}'),
    path: 'spec.probe.httpGet.port',
    message: /must be between 1 and 65535, got 0/,
  },
  {
    name: 'an httpGet scheme in lower case',
    yaml: withProbe('      httpGet: {port: 80, scheme: https}'),
    path: 'spec.probe.httpGet.scheme',
    message: /must be HTTP or HTTPS, got "https"/,
  },
  {
    name: 'a probe header name with a space',
    yaml: withProbe('      httpGet: {port: 80, httpHeaders: [{name: "X Bad", value: v}]}'),
    path: 'spec.probe.httpGet.httpHeaders[0].name',
    message: /must be a header name/,
  },
  {
    name: 'a probe header value with a line break',
    yaml: withProbe('      httpGet: {port: 80, httpHeaders: [{name: X-A, value: "a\\r\\nb"}]}'),
    path: 'spec.probe.httpGet.httpHeaders[0].value',
    message: /must not hold control characters/,
  },
  {
    name: 'a tcpSocket port above 65535',
    yaml: withProbe('      tcpSocket: {port: 65536}'),
    path: 'spec.probe.tcpSocket.port',
    message: /must be between 1 and 65535, got 65536/,
  },
  {
    name: 'an exec probe without command',
    yaml: withProbe('      exec: {command: []}'),
    path: 'spec.probe.exec.command',
    message: /must have at least one item/,
  },
  {
    name: 'a grpc probe without port',
    yaml: withProbe('      grpc: {service: shop.Cart}'),
    path: 'spec.probe.grpc.port',
    message: /is required/,
  },
  {
    name: 'a misspelt probe field',
    yaml: withProbe('      periodSecond: 5\n      tcpSocket: {port: 80}'),
    path: 'spec.probe.periodSecond',
    message: /unknown field \(did you mean "periodSeconds"\?\)/,
  },
];

describe('WorkloadGroup', () => {
  runKindTable('WorkloadGroup', { good, bad });

  it('refuses a WorkloadGroup without spec, as the CRD requires one', () => {
    const { errors } = load(doc('{}').replace(/spec:\n.*\n/, ''));
    assert.deepEqual(
      errors.map((e) => `${e.path}: ${e.message}`),
      ['spec: is required'],
    );
  });

  it('is addressed as wg and workloadgroups, and lists service account and probe', () => {
    const loaded = load(ISTIO_EXAMPLE).resources[0];
    assert.ok(loaded, 'want the example loaded');
    assert.equal(loaded.info.plural, 'workloadgroups');
    assert.deepEqual(loaded.info.shortNames, ['wg']);
    const columns = loaded.info.printerColumns?.map((col) => [col.header, col.value(loaded.resource)]);
    assert.deepEqual(columns, [
      ['Service-Account', 'default'],
      ['Probe', 'httpGet :3100/foo/bar'],
    ]);
  });

  it('prints an error with file, line, object and field path', () => {
    const { errors } = load(withProbe('      tcpSocket: {port: 65536}'));
    assert.deepEqual(errors.map(formatFinding), [
      'x.yaml:10 WorkloadGroup default/reviews: spec.probe.tcpSocket.port: must be between 1 and 65535, got 65536',
    ]);
  });
});
