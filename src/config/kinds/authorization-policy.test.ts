import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

function doc(spec: string, apiVersion = 'security.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: AuthorizationPolicy
metadata:
  name: ap
  namespace: default
spec:${spec}
`;
}

/** A policy with one rule whose `from` has the given source fields (YAML, indented for the source). */
function withSource(source: string, head = ''): string {
  return doc(`${head}
  rules:
  - from:
    - source:
${source}`);
}

function withOperation(operation: string, head = ''): string {
  return doc(`${head}
  rules:
  - to:
    - operation:
${operation}`);
}

function withCondition(condition: string, head = ''): string {
  return doc(`${head}
  rules:
  - when:
    - ${condition}`);
}

const good: AcceptCase[] = [
  {
    name: 'a policy using every source, operation and condition field',
    yaml: doc(`
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep", "prefix-*", "*"]
        notPrincipals: ["*-suffix"]
        requestPrincipals: ["https://issuer.example.com/*"]
        notRequestPrincipals: ["x"]
        namespaces: ["test", "ns-*"]
        notNamespaces: ["kube-system"]
        ipBlocks: ["10.0.0.1", "10.1.0.0/16", "2001:db8::/32"]
        notIpBlocks: ["10.1.2.3"]
        remoteIpBlocks: ["192.168.0.0/24"]
        notRemoteIpBlocks: ["192.168.0.1"]
        trustDomains: ["cluster.local", "*.example.com"]
        notTrustDomains: ["other-*"]
    - source:
        serviceAccounts: ["default/sleep", "curl"]
        notServiceAccounts: ["other/bad"]
    to:
    - operation:
        hosts: ["example.com", "*.example.com"]
        notHosts: ["admin.example.com"]
        ports: ["8080", "0"]
        notPorts: ["9090"]
        methods: ["GET", "POST"]
        notMethods: ["DELETE"]
        paths: ["/info*", "/api/{*}/items/{**}", "/{**}/x"]
        notPaths: ["/admin"]
    when:
    - key: request.headers[x-user]
      values: ["alice"]
    - key: source.ip
      notValues: ["10.0.0.0/8"]
    - key: remote.ip
      values: ["1.2.3.4"]
    - key: source.serviceAccount
      values: ["default/sleep"]
    - key: source.trustDomain
      values: ["cluster.*"]
    - key: request.auth.claims[groups][admin]
      values: ["true"]
    - key: destination.port
      values: ["8080"]
    - key: connection.sni
      values: ["*.example.com"]
    - key: experimental.envoy.filters.network.mysql_proxy[db.table]
      values: ["[update]"]`),
  },
  { name: 'ALLOW without rules, which allows nothing', yaml: doc(' {}') },
  {
    name: 'a DENY rule that names its ports',
    yaml: doc(`
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["8080"]
        methods: ["POST"]`),
  },
  {
    name: 'a DENY rule on HTTP attributes only, with a warning about TCP traffic',
    yaml: doc(`
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["POST"]`),
    warning: { path: 'spec.rules[0]', message: /also denies all TCP traffic/ },
  },
  {
    name: 'DENY with an empty rule, which denies every request',
    yaml: doc('\n  action: DENY\n  rules:\n  - {}'),
  },
  {
    name: 'CUSTOM with a provider',
    warning: {
      path: 'spec.action',
      message: /is not enforced: Alder has no external authorization providers/,
    },
    yaml: doc(`
  action: CUSTOM
  provider:
    name: ext-authz
  rules:
  - to:
    - operation:
        paths: ["/admin/*"]
    when:
    - key: request.headers[x-ext]
      values: ["1"]`),
  },
  {
    name: 'AUDIT',
    yaml: doc('\n  action: AUDIT\n  rules:\n  - to:\n    - operation:\n        paths: ["/x"]'),
  },
  {
    name: 'targetRefs to a Service and a Gateway',
    warning: { path: 'spec.targetRefs', message: /a Gateway target is not enforced/ },
    yaml: doc(`
  targetRefs:
  - kind: Service
    group: ""
    name: reviews
  - kind: Gateway
    group: gateway.networking.k8s.io
    name: waypoint`),
  },
  { name: 'v1beta1', yaml: doc('\n  action: ALLOW', 'security.istio.io/v1beta1') },
];

const bad: RefuseCase[] = [
  {
    name: 'serviceAccounts when the same source names namespaces',
    yaml: withSource('        serviceAccounts: ["bar/sa"]\n        namespaces: ["bar"]'),
    path: 'spec.rules[0].from[0].source.serviceAccounts',
    message: /cannot be set with namespaces in the same source/,
  },
  {
    name: 'a source when it sets nothing',
    yaml: withSource('        principals: []'),
    path: 'spec.rules[0].from[0].source',
    message: /must set at least one of principals/,
  },
  {
    name: 'a from entry when it has no source',
    yaml: doc('\n  rules:\n  - from:\n    - {}'),
    path: 'spec.rules[0].from[0].source',
    message: /is required/,
  },
  {
    name: 'from when it is an empty list',
    yaml: doc('\n  rules:\n  - from: []'),
    path: 'spec.rules[0].from',
    message: /must not be empty: leave out from/,
  },
  {
    name: 'an operation when it sets nothing',
    yaml: doc('\n  rules:\n  - to:\n    - operation: {}'),
    path: 'spec.rules[0].to[0].operation',
    message: /must set at least one of hosts/,
  },
  {
    name: 'an empty principal',
    yaml: withSource('        principals: [""]'),
    path: 'spec.rules[0].from[0].source.principals[0]',
    message: /must not be empty/,
  },
  {
    name: 'an ipBlock when it is not an address',
    yaml: withSource('        ipBlocks: ["1.2.3.4", "ip1"]'),
    path: 'spec.rules[0].from[0].source.ipBlocks[1]',
    message: /must be an IP address or CIDR range, got "ip1"/,
  },
  {
    name: 'a CIDR range when its prefix is too long',
    yaml: withSource('        remoteIpBlocks: ["10.0.0.0/33"]'),
    path: 'spec.rules[0].from[0].source.remoteIpBlocks[0]',
    message: /must be a CIDR range/,
  },
  {
    name: 'a service account with a wildcard',
    yaml: withSource('        serviceAccounts: ["default/*"]'),
    path: 'spec.rules[0].from[0].source.serviceAccounts[0]',
    message: /must not contain a wildcard/,
  },
  {
    name: 'a service account with two slashes',
    yaml: withSource('        serviceAccounts: ["a/b/c"]'),
    path: 'spec.rules[0].from[0].source.serviceAccounts[0]',
    message: /"serviceAccount" or "namespace\/serviceAccount"/,
  },
  {
    name: 'a trust domain with a wildcard in the middle',
    yaml: withSource('        trustDomains: ["a*b"]'),
    path: 'spec.rules[0].from[0].source.trustDomains[0]',
    message: /may only have '\*' at its start or end/,
  },
  {
    name: 'a port when it is not a number',
    yaml: withOperation('        ports: ["80", "port1"]'),
    path: 'spec.rules[0].to[0].operation.ports[1]',
    message: /must be a port number from 0 to 65535/,
  },
  {
    name: 'a port above 65535',
    yaml: withOperation('        notPorts: ["65536"]'),
    path: 'spec.rules[0].to[0].operation.notPorts[0]',
    message: /from 0 to 65535/,
  },
  {
    name: 'a path template when {**} is not last',
    yaml: withOperation('        paths: ["/{**}/a/{*}"]'),
    path: 'spec.rules[0].to[0].operation.paths[0]',
    message: /must have \{\*\*\} as its last operator/,
  },
  {
    name: 'a path with braces that are not a template',
    yaml: withOperation('        notPaths: ["/api/{id}"]'),
    path: 'spec.rules[0].to[0].operation.notPaths[0]',
    message: /may only use '\{' and '\}' in whole segments/,
  },
  {
    name: 'a path template with a glob segment',
    yaml: withOperation('        paths: ["/api/{*}/x*"]'),
    path: 'spec.rules[0].to[0].operation.paths[0]',
    message: /segment "x\*", which a path template cannot match literally/,
  },
  {
    name: 'a condition on an unknown attribute',
    yaml: withCondition('key: source.ipp\n      values: ["1.2.3.4"]'),
    path: 'spec.rules[0].when[0].key',
    message: /unknown attribute "source.ipp": did you mean source.ip\?/,
  },
  {
    name: 'a condition on destination.labels',
    yaml: withCondition('key: destination.labels[app]\n      values: ["a"]'),
    path: 'spec.rules[0].when[0].key',
    message: /replaced by the workload selector/,
  },
  {
    name: 'a header condition without brackets',
    yaml: withCondition('key: request.headers\n      values: ["a"]'),
    path: 'spec.rules[0].when[0].key',
    message: /must have the form name\[key\]/,
  },
  {
    name: 'a condition when it has neither values nor notValues',
    yaml: withCondition('key: source.principal'),
    path: 'spec.rules[0].when[0]',
    message: /must set values or notValues for key source.principal/,
  },
  {
    name: 'a condition when a source.ip value is not an address',
    yaml: withCondition('key: source.ip\n      values: ["a.b.c.d"]'),
    path: 'spec.rules[0].when[0].values[0]',
    message: /IP address or CIDR range/,
  },
  {
    name: 'a condition when a destination.port notValue is not a port',
    yaml: withCondition('key: destination.port\n      notValues: ["http"]'),
    path: 'spec.rules[0].when[0].notValues[0]',
    message: /port number/,
  },
  {
    name: 'DENY when it has no rules',
    yaml: doc('\n  action: DENY'),
    path: 'spec.rules',
    message: /must not be empty with action DENY.*add an empty rule \{\}/,
  },
  {
    name: 'CUSTOM when it names no provider',
    yaml: doc('\n  action: CUSTOM\n  rules:\n  - {}'),
    path: 'spec.provider',
    message: /is required with action CUSTOM/,
  },
  {
    name: 'CUSTOM when the provider name is empty',
    yaml: doc('\n  action: CUSTOM\n  provider:\n    name: ""\n  rules:\n  - {}'),
    path: 'spec.provider.name',
    message: /must not be empty with action CUSTOM/,
  },
  {
    name: 'CUSTOM when a source names principals',
    yaml: withSource('        principals: ["a"]', '\n  action: CUSTOM\n  provider:\n    name: ext'),
    path: 'spec.rules[0].from[0].source.principals',
    message: /is not supported with action CUSTOM/,
  },
  {
    name: 'CUSTOM when a condition reads a JWT claim',
    yaml: withCondition(
      'key: request.auth.claims[iss]\n      values: ["a"]',
      '\n  action: CUSTOM\n  provider:\n    name: ext',
    ),
    path: 'spec.rules[0].when[0].key',
    message: /request.auth.claims\[iss\] is not supported with action CUSTOM/,
  },
  {
    name: 'a provider when the action is not CUSTOM',
    yaml: doc('\n  provider:\n    name: ext\n  rules:\n  - {}'),
    path: 'spec.provider',
    message: /must only be set with action CUSTOM, got action ALLOW/,
  },
  {
    name: 'an unknown action',
    yaml: doc('\n  action: allow'),
    path: 'spec.action',
    message: /must be one of ALLOW, DENY, AUDIT, CUSTOM, got "allow"/,
  },
  {
    name: 'a selector together with a targetRef',
    yaml: doc('\n  selector:\n    matchLabels:\n      app: a\n  targetRef:\n    kind: Service\n    name: a'),
    path: 'spec',
    message: /only one of selector, targetRef, targetRefs may be set, got selector and targetRef/,
  },
  {
    name: 'a targetRef to another namespace',
    yaml: doc('\n  targetRef:\n    kind: Service\n    name: a\n    namespace: other'),
    path: 'spec.targetRef.namespace',
    message: /cross-namespace references are not supported/,
  },
  {
    name: 'a targetRef to a kind a policy cannot target',
    yaml: doc('\n  targetRefs:\n  - kind: Deployment\n    group: apps\n    name: a'),
    path: 'spec.targetRefs[0].kind',
    message: /must target one of Service, .*got apps\/Deployment/,
  },
  {
    name: 'a targetRef without a name',
    yaml: doc('\n  targetRef:\n    kind: Service'),
    path: 'spec.targetRef.name',
    message: /is required/,
  },
];

describe('AuthorizationPolicy', () => {
  runKindTable('AuthorizationPolicy', { good, bad });

  it('AuthorizationPolicy: reports every bad value of a document at once', () => {
    const r = load(withOperation('        ports: ["x"]\n        paths: ["/{**}/{*}"]'));
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ['spec.rules[0].to[0].operation.ports[0]', 'spec.rules[0].to[0].operation.paths[0]'],
    );
  });

  it('AuthorizationPolicy: prints a refused port with its file line, object and field', () => {
    const r = load(withOperation('        ports: ["80", "port1"]'));
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:10 AuthorizationPolicy default/ap: spec.rules[0].to[0].operation.ports[1]: must be a port number from 0 to 65535 written as a string, got "port1"',
    ]);
  });
});
