import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, indent, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A VirtualService document; `spec` is YAML indented as it would be at the top level. */
function vs(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
${indent(spec)}
`;
}

const ROUTE = 'route: [{destination: {host: reviews}}]';

const good: AcceptCase[] = [
  {
    name: 'weighted subsets whose weights do not add up to 100, which Istio normalises',
    yaml: vs(`
      hosts: [reviews]
      http:
      - route:
        - destination: {host: reviews, subset: v1}
          weight: 1
        - destination: {host: reviews, subset: v2}
          weight: 3`),
  },
  {
    name: 'a gateway-bound route on "*" with a JWT claim match',
    yaml: vs(`
      hosts: ["*"]
      gateways: [istio-system/ingress, my-gateway]
      http:
      - match:
        - headers:
            "@request.auth.claims.groups": {exact: admin}
            "@request.auth.claims[sub]": {prefix: user-}
        ${ROUTE}`),
  },
  {
    name: 'hosts that are short names, FQDNs, wildcards and IP addresses',
    yaml: vs(`
      hosts: [reviews, ratings.default.svc.cluster.local, "*.example.com", "*-beta.example.org", 10.0.0.1]
      http:
      - ${ROUTE}`),
  },
  {
    name: 'a delegate (no hosts) and the root route that includes it',
    yaml: `${vs(`
      http:
      - match: [{uri: {prefix: /api}}]
        ${ROUTE}`)}---
${vs(`
      hosts: [bookinfo.com]
      gateways: [bookinfo-gateway]
      http:
      - match: [{uri: {prefix: /}}]
        delegate: {name: reviews, namespace: default}`).replace(
  'name: reviews\n  namespace',
  'name: root\n  namespace',
)}`,
    objects: 2,
  },
  {
    name: 'TLS routes whose SNI hosts fall under the hosts, and TCP routes',
    yaml: vs(`
      hosts: ["*.example.com", db]
      gateways: [mesh, edge]
      tls:
      - match:
        - sniHosts: [a.example.com, "*.b.example.com"]
          port: 443
          destinationSubnets: [10.0.0.0/8, 2001:db8::/32]
        route:
        - destination: {host: a.example.com}
      tcp:
      - match: [{port: 3306, sourceLabels: {app: reviews}}]
        route:
        - destination: {host: db, port: {number: 3306}}`),
  },
  {
    name: "Istio's generated SNI name on a gateway-bound TLS route",
    yaml: vs(`
      hosts: ["outbound_.443_._.api.example.com"]
      gateways: [cross-network]
      tls:
      - match: [{sniHosts: ["outbound_.443_._.api.example.com"]}]
        route: [{destination: {host: api.example.com}}]`),
  },
  {
    name: 'v1alpha3 with exportTo',
    yaml: vs(
      `
      hosts: [reviews]
      exportTo: [".", istio-system]
      http:
      - ${ROUTE}`,
      'networking.istio.io/v1alpha3',
    ),
  },
  {
    name: 'two rules without matches, with a warning that the second is never used',
    yaml: vs(`
      hosts: [reviews]
      http:
      - ${ROUTE}
      - ${ROUTE}`),
    warning: { path: 'spec.http[1]', message: /is never used: http\[0\] has no match/ },
  },
  {
    name: 'a prefix match hidden by a broader earlier one, with a warning',
    yaml: vs(`
      hosts: [reviews]
      http:
      - match: [{uri: {prefix: /api}}]
        ${ROUTE}
      - match: [{uri: {prefix: /api/v2}}]
        ${ROUTE}`),
    warning: {
      path: 'spec.http[1].match[0]',
      message: /http\[0\]\.match\[0\] \(prefix "\/api"\) comes first/,
    },
  },
  {
    name: 'a legacy gateway name, with a warning',
    yaml: vs(`
      hosts: [reviews]
      gateways: [my-gateway.istio-system]
      http:
      - ${ROUTE}`),
    warning: {
      path: 'spec.gateways[0]',
      message: /prefer <namespace>\/<name>, here "istio-system\/my-gateway"/,
    },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'the spec when it has no http, tcp or tls route',
    yaml: vs('hosts: [reviews]'),
    path: 'spec',
    message: /must set at least one of http, tcp, tls/,
  },
  {
    name: 'a field when it is misspelt (host for hosts)',
    yaml: vs(`host: [reviews]\nhttp:\n- ${ROUTE}`),
    path: 'spec.host',
    message: /unknown field \(did you mean "hosts"\?\)/,
  },
  {
    name: 'host "*" when the routes apply to the mesh',
    yaml: vs(`hosts: ["*"]\nhttp:\n- ${ROUTE}`),
    path: 'spec.hosts[0]',
    message: /"\*" is allowed only for VirtualServices bound to gateways/,
  },
  {
    name: 'a host when a wildcard stands inside a label',
    yaml: vs(`hosts: ["foo*.example.com"]\nhttp:\n- ${ROUTE}`),
    path: 'spec.hosts[0]',
    message: /must be a DNS name .* got "foo\*\.example\.com" \(label "foo\*"\)/,
  },
  {
    name: 'a host when its top-level domain is numeric and it is no IP address',
    yaml: vs(`hosts: ["reviews.123"]\nhttp:\n- ${ROUTE}`),
    path: 'spec.hosts[0]',
    message: /top-level domain is not all digits/,
  },
  {
    name: 'a host when it overlaps an earlier one through a wildcard',
    yaml: vs(`hosts: ["*.example.com", api.example.com]\nhttp:\n- ${ROUTE}`),
    path: 'spec.hosts[1]',
    message: /overlaps hosts\[0\] "\*\.example\.com"/,
  },
  {
    name: "Istio's generated SNI name when the routes apply to the mesh",
    yaml: vs(`hosts: ["outbound_.443_._.api.example.com"]\nhttp:\n- ${ROUTE}`),
    path: 'spec.hosts[0]',
    message: /label "outbound_"/,
  },
  {
    name: 'a gateway reference when its name is no DNS label',
    yaml: vs(`hosts: [reviews]\ngateways: [istio-system/my_gateway]\nhttp:\n- ${ROUTE}`),
    path: 'spec.gateways[0]',
    message: /gateway name must be a DNS-1123 label, got "my_gateway"/,
  },
  {
    name: 'gateways when the VirtualService is a delegate (no hosts)',
    yaml: vs(`gateways: [my-gateway]\nhttp:\n- ${ROUTE}`),
    path: 'spec.gateways',
    message: /without hosts is a delegate, which takes the gateways of its parent/,
  },
  {
    name: 'a TCP route when the VirtualService is a delegate (no hosts)',
    yaml: vs('tcp:\n- route: [{destination: {host: db}}]'),
    path: 'spec.tcp',
    message: /delegate, which routes HTTP only/,
  },
  {
    name: 'delegate when the VirtualService is itself a delegate',
    yaml: vs('http:\n- delegate: {name: other}'),
    path: 'spec.http[0].delegate',
    message: /cannot delegate again/,
    count: 2,
  },
  {
    name: 'route when the HTTP route delegates',
    yaml: vs(`hosts: [reviews]\nhttp:\n- delegate: {name: other}\n  ${ROUTE}`),
    path: 'spec.http[0].route',
    message: /a route with delegate must not set route/,
  },
  {
    name: 'a JWT claim match when the routes apply to the mesh',
    yaml: vs(`
      hosts: [reviews]
      gateways: [mesh, my-gateway]
      http:
      - match: [{headers: {"@request.auth.claims.sub": {exact: alice}}}]
        ${ROUTE}`),
    path: 'spec.http[0].match[0].headers["@request.auth.claims.sub"]',
    message: /JWT claim works only on gateways/,
  },
  {
    name: 'a TLS match when it has no SNI hosts',
    yaml: vs(
      'hosts: [a.example.com]\ntls:\n- match: [{port: 443}]\n  route: [{destination: {host: a.example.com}}]',
    ),
    path: 'spec.tls[0].match[0].sniHosts',
    message: /is required/,
  },
  {
    name: 'a TLS route when it has no match',
    yaml: vs('hosts: [a.example.com]\ntls:\n- route: [{destination: {host: a.example.com}}]'),
    path: 'spec.tls[0].match',
    message: /is required/,
  },
  {
    name: 'an SNI host when it falls outside the hosts',
    yaml: vs(`
      hosts: ["*.example.com"]
      tls:
      - match: [{sniHosts: [example.org]}]
        route: [{destination: {host: a.example.com}}]`),
    path: 'spec.tls[0].match[0].sniHosts[0]',
    message: /must fall under one of the hosts \[\*\.example\.com\], got "example\.org"/,
  },
  {
    name: 'a TCP route when it has no destination',
    yaml: vs('hosts: [db]\ntcp:\n- match: [{port: 3306}]'),
    path: 'spec.tcp[0].route',
    message: /is required/,
  },
  {
    name: 'a TCP match when a subnet is no CIDR block',
    yaml: vs(
      'hosts: [db]\ntcp:\n- match: [{destinationSubnets: [10.0.0.0/33]}]\n  route: [{destination: {host: db}}]',
    ),
    path: 'spec.tcp[0].match[0].destinationSubnets[0]',
    message: /must be an IP address or a CIDR block/,
  },
  {
    name: 'a weight above 100 (stricter than Istio: weights are percentages)',
    yaml: vs(`
      hosts: [reviews]
      http:
      - route:
        - destination: {host: reviews, subset: v1}
          weight: 80
        - destination: {host: reviews, subset: v2}
          weight: 120`),
    path: 'spec.http[0].route[1].weight',
    message: /must be between 0 and 100, got 120/,
  },
  {
    name: 'TCP destinations when all weights are 0',
    yaml: vs(`
      hosts: [db]
      tcp:
      - route:
        - destination: {host: db, subset: v1}
          weight: 0
        - destination: {host: db, subset: v2}
          weight: 0`),
    path: 'spec.tcp[0].route',
    message: /weights must not all be 0/,
  },
  {
    name: 'exportTo when it lists a namespace twice',
    yaml: vs(`hosts: [reviews]\nexportTo: [".", default]\nhttp:\n- ${ROUTE}`),
    path: 'spec.exportTo[1]',
    message: /duplicate entry "default"/,
  },
  {
    name: 'the object when spec is missing',
    yaml: vs('').replace('spec:\n\n', ''),
    path: 'spec',
    message: /is required/,
  },
];

describe('VirtualService', () => {
  runKindTable('VirtualService', { good, bad });

  it('VirtualService: prints an error with file, line, object and field path', () => {
    const text = vs(`
      hosts: [reviews]
      http:
      - route:
        - destination: {host: reviews, subset: v1}
          weight: -20`);
    const lines = load(text).errors.map(formatFinding);
    assert.deepEqual(lines, [
      'x.yaml:11 VirtualService default/reviews: spec.http[0].route[0].weight: must be between 0 and 100, got -20',
    ]);
  });

  it('VirtualService: reports every error of a document at once', () => {
    const text = vs(`
      hosts: [reviews, "bad host"]
      gateways: [a/b_c]
      http:
      - route: [{destination: {host: "*"}}]`);
    const paths = load(text).errors.map((e) => e.path);
    assert.deepEqual(paths, ['spec.hosts[1]', 'spec.gateways[0]', 'spec.http[0].route[0].destination.host']);
  });
});
