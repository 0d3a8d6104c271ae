import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A ServiceEntry in namespace `default` whose spec is `spec`, indented by two spaces. */
function doc(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: ServiceEntry
metadata:
  name: external
  namespace: default
spec:
${spec}
`;
}

const HTTPS = '  ports:\n  - number: 443\n    name: https\n    protocol: HTTPS';

const good: AcceptCase[] = [
  {
    name: 'an external HTTPS API resolved by DNS',
    yaml: doc(`  hosts: [api.github.com]\n${HTTPS}\n  location: MESH_EXTERNAL\n  resolution: DNS`),
  },
  {
    name: 'static endpoints behind a CIDR block',
    yaml: doc(`  hosts: [db.internal]
  addresses: [10.1.0.0/16]
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
    targetPort: 15432
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 10.1.0.5
    ports:
      tcp-postgres: 5433
    labels:
      app: db
    locality: us-west/zone1
    weight: 2
    serviceAccount: db
  - address: 2001:db8::5`),
  },
  {
    name: 'host-name endpoints under DNS_ROUND_ROBIN',
    yaml: doc(
      `  hosts: ["*.example.com"]\n${HTTPS}\n  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: lb.example.com`,
    ),
  },
  {
    name: 'wildcard hosts resolved per request (DYNAMIC_DNS)',
    yaml: doc(`  hosts: ["*.example.com", "*.example.org"]
  ports:
  - {number: 80, name: http, protocol: http}
  - {number: 443, name: tls, protocol: TLS}
  - {number: 9090, name: grpc, protocol: GRPC}
  resolution: DYNAMIC_DNS`),
  },
  {
    name: 'a unix socket endpoint with one port',
    yaml: doc(`  hosts: [uds.local]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  resolution: STATIC
  endpoints:
  - address: unix:///var/run/app.sock`),
  },
  {
    name: 'protocols in any case and upper-case port names, as Istio parses them',
    yaml: doc(`  hosts: [a.example.com]
  addresses: [192.168.0.1]
  ports:
  - {number: 27017, name: MONGO, protocol: mongo}
  - {number: 8080, name: Web, protocol: grpc-web}
  resolution: DNS`),
  },
  {
    name: 'a workload selector with STATIC resolution',
    yaml: doc(
      `  hosts: [vm.internal]\n${HTTPS}\n  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: vm`,
    ),
  },
  { name: 'exportTo no namespace ("~")', yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  exportTo: ["~"]`) },
  { name: 'v1alpha3', yaml: doc(`  hosts: [a.com]\n${HTTPS}`, 'networking.istio.io/v1alpha3') },
  {
    name: 'a partial wildcard host, with a warning',
    yaml: doc(`  hosts: ["*washingtonpost.com"]\n${HTTPS}`),
    warning: { path: 'spec.hosts[0]', message: /partial wildcard "\*washingtonpost.com" is not supported/ },
  },
  {
    name: 'a TCP port without addresses under resolution NONE, with a warning',
    yaml: doc('  hosts: [a.com]\n  ports:\n  - number: 3306\n    name: mysql'),
    warning: {
      path: 'spec.ports[0]',
      message: /serves TCP \(protocol unset\) but the ServiceEntry has no addresses/,
    },
  },
  {
    name: 'a workload selector under resolution NONE, with a warning',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  workloadSelector:\n    labels:\n      app: vm`),
    warning: { path: 'spec.workloadSelector', message: /has no effect when resolution is NONE/ },
  },
  {
    name: 'a workload selector without labels, with a warning',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  workloadSelector: {}`),
    warning: { path: 'spec.workloadSelector', message: /selects every workload/ },
  },
  {
    name: 'several hosts sharing an address on a TLS port, with a warning',
    yaml: doc(`  hosts: [a.com, b.com]\n  addresses: [10.0.0.1]\n${HTTPS}\n  resolution: DNS`),
    warning: { path: 'spec.hosts', message: /should have one host/ },
  },
  {
    name: 'a STATIC endpoint known only by its network, with a warning',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  endpoints:\n  - network: west`),
    warning: { path: 'spec.endpoints[0].address', message: /gateway of network "west"/ },
  },
];

const bad: RefuseCase[] = [
  { name: 'a spec without hosts', yaml: doc(HTTPS), path: 'spec.hosts', message: /is required/ },
  {
    name: 'an empty list of hosts',
    yaml: doc('  hosts: []'),
    path: 'spec.hosts',
    message: /at least one item/,
  },
  {
    name: 'the host "*"',
    yaml: doc('  hosts: [a.com, "*"]'),
    path: 'spec.hosts[1]',
    message: /must not be "\*"/,
  },
  {
    name: 'an address that is no IP or CIDR',
    yaml: doc('  hosts: [a.com]\n  addresses: [10.0.0.0/33]'),
    path: 'spec.addresses[0]',
    message: /must be an IP address or a CIDR block/,
  },
  {
    name: 'a CIDR block when resolution is DNS',
    yaml: doc(`  hosts: [a.com]\n  addresses: [10.0.0.0/8]\n${HTTPS}\n  resolution: DNS`),
    path: 'spec.addresses[0]',
    message: /CIDR blocks need NONE or STATIC/,
  },
  {
    name: 'two ports with one name',
    yaml: doc(
      '  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 81, name: http, protocol: HTTP}',
    ),
    path: 'spec.ports[1].name',
    message: /duplicate port name "http"/,
  },
  {
    name: 'two ports with one number',
    yaml: doc(
      '  hosts: [a.com]\n  ports:\n  - {number: 80, name: a, protocol: HTTP}\n  - {number: 80, name: b, protocol: HTTP}',
    ),
    path: 'spec.ports[1].number',
    message: /duplicate port number 80/,
  },
  {
    name: 'a port number above 65535',
    yaml: doc('  hosts: [a.com]\n  ports:\n  - {number: 99999, name: a, protocol: HTTP}'),
    path: 'spec.ports[0].number',
    message: /must be between 1 and 65535, got 99999/,
  },
  {
    name: 'a target port of 0',
    yaml: doc('  hosts: [a.com]\n  ports:\n  - {number: 80, name: a, protocol: HTTP, targetPort: 0}'),
    path: 'spec.ports[0].targetPort',
    message: /must be between 1 and 65535, got 0/,
  },
  {
    name: 'an unknown protocol',
    yaml: doc('  hosts: [a.com]\n  ports:\n  - {number: 25, name: smtp, protocol: SMTP}'),
    path: 'spec.ports[0].protocol',
    message: /must be one of HTTP, HTTPS, GRPC, .* \(any case\), got "SMTP"/,
  },
  {
    name: 'a port name with an underscore',
    yaml: doc('  hosts: [a.com]\n  ports:\n  - {number: 80, name: http_1, protocol: HTTP}'),
    path: 'spec.ports[0].name',
    message: /must be a DNS-1123 label/,
  },
  {
    name: 'endpoints when resolution is NONE',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  endpoints:\n  - address: 1.2.3.4`),
    path: 'spec.endpoints',
    message: /must be empty when resolution is NONE/,
  },
  {
    name: 'two endpoints when resolution is DNS_ROUND_ROBIN',
    yaml: doc(
      `  hosts: [a.com]\n${HTTPS}\n  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: a.com\n  - address: b.com`,
    ),
    path: 'spec.endpoints',
    message: /at most one endpoint when resolution is DNS_ROUND_ROBIN, got 2/,
  },
  {
    name: 'a host-name endpoint when resolution is STATIC',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  endpoints:\n  - address: google.com`),
    path: 'spec.endpoints[0].address',
    message: /must be an IP address when resolution is STATIC, got "google.com"/,
  },
  {
    name: 'an endpoint port the ServiceEntry does not define',
    yaml: doc(
      `  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  endpoints:\n  - address: 1.2.3.4\n    ports:\n      http-dne: 8080`,
    ),
    path: 'spec.endpoints[0].ports.http-dne',
    message: /must name a port of the ServiceEntry \(https\)/,
  },
  {
    name: 'a wildcard host to resolve by DNS without endpoints',
    yaml: doc(`  hosts: ["*.google.com"]\n${HTTPS}\n  resolution: DNS`),
    path: 'spec.hosts[0]',
    message: /without wildcards when resolution is DNS and there are no endpoints/,
  },
  {
    name: 'a wildcard endpoint address when resolution is DNS',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: DNS\n  endpoints:\n  - address: "*.lon.google.com"`),
    path: 'spec.endpoints[0].address',
    message: /must be an IP address or a DNS name .*\(resolution DNS\)/,
  },
  {
    name: 'a host without wildcard when resolution is DYNAMIC_DNS',
    yaml: doc(
      '  hosts: [google.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  resolution: DYNAMIC_DNS',
    ),
    path: 'spec.hosts[0]',
    message: /must be a wildcard host .* when resolution is DYNAMIC_DNS/,
  },
  {
    name: 'a TCP port when resolution is DYNAMIC_DNS',
    yaml: doc(
      '  hosts: ["*.a.com"]\n  ports:\n  - {number: 81, name: tcp, protocol: TCP}\n  resolution: DYNAMIC_DNS',
    ),
    path: 'spec.ports[0].protocol',
    message: /must be HTTP, TLS, GRPC or HTTP2 when resolution is DYNAMIC_DNS, got "TCP"/,
  },
  {
    name: 'addresses when resolution is DYNAMIC_DNS',
    yaml: doc('  hosts: ["*.a.com"]\n  addresses: [10.0.0.1]\n  resolution: DYNAMIC_DNS'),
    path: 'spec.addresses',
    message: /must be empty when resolution is DYNAMIC_DNS/,
  },
  {
    name: 'a workload selector together with endpoints',
    yaml: doc(
      `  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: a\n  endpoints:\n  - address: 1.2.3.4`,
    ),
    path: 'spec',
    message: /only one of workloadSelector, endpoints may be set/,
  },
  {
    name: 'several hosts on a plain TCP port when resolution is DNS',
    yaml: doc(
      '  hosts: [a.com, b.com]\n  ports:\n  - {number: 3306, name: mysql, protocol: TCP}\n  resolution: DNS',
    ),
    path: 'spec.ports[0].protocol',
    message: /must be HTTP or TLS based when a ServiceEntry has several hosts/,
  },
  {
    name: 'a wildcard in a selector label',
    yaml: doc(
      `  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: "*"`,
    ),
    path: 'spec.workloadSelector.labels.app',
    message: /must not contain "\*"/,
  },
  {
    name: 'a unix socket endpoint when the ServiceEntry has two ports',
    yaml: doc(
      '  hosts: [a.local]\n  ports:\n  - {number: 80, name: a, protocol: HTTP}\n  - {number: 81, name: b, protocol: HTTP}\n  resolution: STATIC\n  endpoints:\n  - address: unix:///run/a.sock',
    ),
    path: 'spec.endpoints[0].address',
    message: /needs exactly one ServiceEntry port, got 2/,
  },
  {
    name: 'an endpoint with neither address nor network',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  endpoints:\n  - labels:\n      app: a`),
    path: 'spec.endpoints[0].address',
    message: /is required \(or set network\)/,
  },
  {
    name: '"~" together with another namespace in exportTo',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  exportTo: ["~", "."]`),
    path: 'spec.exportTo',
    message: /"~" exports to no namespace and must be the only entry/,
  },
  {
    name: 'an unknown location',
    yaml: doc(`  hosts: [a.com]\n${HTTPS}\n  location: EXTERNAL`),
    path: 'spec.location',
    message: /must be one of MESH_EXTERNAL, MESH_INTERNAL, got "EXTERNAL"/,
  },
];

describe('ServiceEntry', () => {
  runKindTable('ServiceEntry', { good, bad });

  it("refuses a ServiceEntry without spec, as Istio's CRD requires one", () => {
    const { errors } = load(doc('').replace('spec:\n', ''));
    assert.deepEqual(
      errors.map((e) => `${e.path}: ${e.message}`),
      ['spec: is required'],
    );
  });

  it('lists hosts, location and resolution for `alder get`', () => {
    const loaded = load(
      doc(`  hosts: [a.com, b.com]\n${HTTPS}\n  location: MESH_EXTERNAL\n  resolution: DNS`),
    ).resources[0];
    assert.ok(loaded);
    const columns = loaded.info.printerColumns?.map((col) => [col.header, col.value(loaded.resource)]);
    assert.deepEqual(columns, [
      ['Hosts', '["a.com","b.com"]'],
      ['Location', 'MESH_EXTERNAL'],
      ['Resolution', 'DNS'],
    ]);
  });

  it('prints an error with file, line, object and field path', () => {
    const { errors } = load(
      doc(`  hosts: [a.com]\n${HTTPS}\n  resolution: STATIC\n  endpoints:\n  - address: google.com`),
    );
    assert.deepEqual(errors.map(formatFinding), [
      'x.yaml:14 ServiceEntry default/external: spec.endpoints[0].address: must be an IP address when resolution is STATIC, got "google.com"',
    ]);
  });
});
