import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, indent, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A Sidecar document; `spec` is YAML indented as it would be at the top level. */
function sc(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: Sidecar
metadata:
  name: default
  namespace: bookinfo
spec:
${indent(spec)}
`;
}

const good: AcceptCase[] = [
  {
    name: 'egress limited to this namespace and istio-system',
    yaml: sc('egress:\n- hosts: ["./*", "istio-system/*"]'),
  },
  {
    name: 'ingress listeners with default endpoints, TLS and connection pools, and a catch-all egress last',
    yaml: sc(`
      workloadSelector: {labels: {app: reviews}}
      ingress:
      - port: {number: 9080, protocol: HTTP, name: http}
        defaultEndpoint: 127.0.0.1:8080
        captureMode: IPTABLES
        connectionPool: {http: {http1MaxPendingRequests: 100}, tcp: {maxConnections: 10}}
      - port: {number: 9443, protocol: HTTPS, name: https}
        defaultEndpoint: "[::1]:8443"
        tls: {mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}
      - port: {number: 9090}
        defaultEndpoint: 0.0.0.0:9091
        bind: 0.0.0.0
      egress:
      - port: {number: 3306, protocol: MySQL, name: mysql}
        bind: 127.0.0.1
        hosts: ["*/mysql.example.com"]
      - port: {number: 0, protocol: HTTP}
        bind: unix:///var/run/egress.sock
        captureMode: NONE
        hosts: ["~ns1/*", "*/*.example.org"]
      - hosts: ["istio-system/*"]`),
  },
  {
    name: 'an outbound policy through an egress proxy, and an inbound connection pool',
    yaml: sc(`
      outboundTrafficPolicy:
        mode: ALLOW_ANY
        egressProxy: {host: egress.istio-system.svc.cluster.local, subset: v1, port: {number: 443}}
      inboundConnectionPool: {tcp: {connectTimeout: 5s}}`),
  },
  {
    name: 'v1beta1',
    yaml: sc('egress:\n- hosts: ["abc/*"]', 'networking.istio.io/v1beta1'),
  },
  {
    name: 'a selector without labels, with a warning',
    yaml: sc('workloadSelector: {}\negress:\n- hosts: ["./*"]'),
    warning: {
      path: 'spec.workloadSelector',
      message: /selects by no label, so it applies to every workload/,
    },
  },
  {
    name: 'a host listed twice, with a warning',
    yaml: sc('egress:\n- hosts: ["./*", "./reviews.bookinfo.svc.cluster.local"]'),
    warning: { path: 'spec.egress[0].hosts[1]', message: /repeats a host this listener already selects/ },
  },
  {
    name: 'HTTP pool settings on a TCP port, with a warning',
    yaml: sc('ingress:\n- port: {number: 3306, protocol: TCP}\n  connectionPool: {http: {maxRetries: 3}}'),
    warning: { path: 'spec.ingress[0].connectionPool.http', message: /only the tcp settings take effect/ },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'the spec when it configures nothing',
    yaml: sc('workloadSelector: {labels: {app: a}}'),
    path: 'spec',
    message: /must set at least one of egress, ingress, outboundTrafficPolicy, inboundConnectionPool/,
  },
  {
    name: 'an egress host when it has no namespace',
    yaml: sc('egress:\n- hosts: [reviews.bookinfo.svc.cluster.local]'),
    path: 'spec.egress[0].hosts[0]',
    message: /must be of the form namespace\/dnsName/,
  },
  {
    name: 'an egress host when it is a short name',
    yaml: sc('egress:\n- hosts: [bookinfo/reviews]'),
    path: 'spec.egress[0].hosts[0]',
    message: /short names are not allowed/,
  },
  {
    name: 'an egress host when it is an IP address',
    yaml: sc('egress:\n- hosts: [bookinfo/10.0.0.1]'),
    path: 'spec.egress[0].hosts[0]',
    message: /dnsName must be a DNS name whose top-level domain is not all digits/,
  },
  {
    name: 'an egress listener when it has no hosts',
    yaml: sc('egress:\n- port: {number: 80}'),
    path: 'spec.egress[0].hosts',
    message: /is required/,
  },
  {
    name: 'the catch-all egress listener when it is not last',
    yaml: sc('egress:\n- hosts: ["./*"]\n- port: {number: 80}\n  hosts: ["./*"]'),
    path: 'spec.egress[0]',
    message: /has no port, so it catches all traffic, and must be the last listener/,
  },
  {
    name: 'an egress port when another listener has it',
    yaml: sc('egress:\n- port: {number: 80}\n  hosts: ["./*"]\n- port: {number: 80}\n  hosts: ["ns2/*"]'),
    path: 'spec.egress[1].port.number',
    message: /duplicates the port of egress\[0\]/,
  },
  {
    name: 'an egress listener on port 0 when it binds no unix socket',
    yaml: sc('egress:\n- port: {number: 0}\n  bind: 127.0.0.1\n  hosts: ["./*"]'),
    path: 'spec.egress[0].bind',
    message: /must be a unix:\/\/ socket path when port.number is 0/,
  },
  {
    name: 'a unix socket egress listener when it uses iptables capture',
    yaml: sc(
      'egress:\n- port: {number: 0}\n  bind: unix:///var/run/a.sock\n  captureMode: IPTABLES\n  hosts: ["./*"]',
    ),
    path: 'spec.egress[0].captureMode',
    message: /must be DEFAULT or NONE for a unix domain socket listener/,
  },
  {
    name: 'an egress port when its protocol is unknown',
    yaml: sc('egress:\n- port: {number: 80, protocol: FOO}\n  hosts: ["./*"]'),
    path: 'spec.egress[0].port.protocol',
    message: /must be one of .* or empty to detect it, got "FOO"/,
  },
  {
    name: 'an ingress listener when it has no port',
    yaml: sc('ingress:\n- defaultEndpoint: 127.0.0.1:8080'),
    path: 'spec.ingress[0].port',
    message: /is required/,
  },
  {
    name: 'an ingress port when it is 0',
    yaml: sc('ingress:\n- port: {number: 0}'),
    path: 'spec.ingress[0].port.number',
    message: /must be between 1 and 65535 for an ingress listener/,
  },
  {
    name: 'an ingress port when another listener has it',
    yaml: sc('ingress:\n- port: {number: 9080}\n- port: {number: 9080}'),
    path: 'spec.ingress[1].port.number',
    message: /duplicates the port of ingress\[0\]/,
  },
  {
    name: 'a default endpoint when it is on another host',
    yaml: sc('ingress:\n- port: {number: 9080}\n  defaultEndpoint: 10.0.0.1:8080'),
    path: 'spec.ingress[0].defaultEndpoint',
    message: /must be 127.0.0.1:<port>, 0.0.0.0:<port>, \[::1\]:<port> or \[::\]:<port>, got "10.0.0.1:8080"/,
  },
  {
    name: 'a default endpoint on a unix domain socket, which the proxy cannot forward to',
    yaml: sc('ingress:\n- port: {number: 9080}\n  defaultEndpoint: unix:///var/run/app.sock'),
    path: 'spec.ingress[0].defaultEndpoint',
    message: /^unix domain sockets are not supported; use 127\.0\.0\.1:PORT or 0\.0\.0\.0:PORT$/,
  },
  {
    name: 'a default endpoint when its port is out of range',
    yaml: sc('ingress:\n- port: {number: 9080}\n  defaultEndpoint: 127.0.0.1:70000'),
    path: 'spec.ingress[0].defaultEndpoint',
    message: /with a port between 1 and 65535/,
  },
  {
    name: 'targetPort when it is set',
    yaml: sc('ingress:\n- port: {number: 9080, targetPort: 8080}'),
    path: 'spec.ingress[0].port.targetPort',
    message: /has no effect on Sidecars/,
  },
  {
    name: 'ingress TLS when the port is plain HTTP',
    yaml: sc(
      'ingress:\n- port: {number: 9080, protocol: HTTP}\n  tls: {mode: SIMPLE, serverCertificate: /a.crt, privateKey: /a.key}',
    ),
    path: 'spec.ingress[0].tls',
    message: /needs port.protocol HTTPS or TLS/,
  },
  {
    name: 'ingress TLS when it uses ISTIO_MUTUAL',
    yaml: sc('ingress:\n- port: {number: 9443, protocol: HTTPS}\n  tls: {mode: ISTIO_MUTUAL}'),
    path: 'spec.ingress[0].tls.mode',
    message: /is not supported in Sidecar ingress tls/,
  },
  {
    name: 'ingress TLS when it names a credential',
    yaml: sc(
      'ingress:\n- port: {number: 9443, protocol: HTTPS}\n  tls: {mode: SIMPLE, credentialName: cert}',
    ),
    path: 'spec.ingress[0].tls.credentialName',
    message: /is not supported in Sidecar ingress tls: use serverCertificate and privateKey/,
  },
  {
    name: 'ingress TLS when it lacks a private key',
    yaml: sc(
      'ingress:\n- port: {number: 9443, protocol: HTTPS}\n  tls: {mode: SIMPLE, serverCertificate: /a.crt}',
    ),
    path: 'spec.ingress[0].tls.privateKey',
    message: /is required for SIMPLE TLS/,
  },
  {
    name: 'a connection pool when it is empty',
    yaml: sc('inboundConnectionPool: {}'),
    path: 'spec.inboundConnectionPool',
    message: /must set tcp or http/,
  },
  {
    name: 'an egress proxy when the mode is REGISTRY_ONLY',
    yaml: sc('outboundTrafficPolicy:\n  egressProxy: {host: egress.example.com, port: {number: 443}}'),
    path: 'spec.outboundTrafficPolicy.egressProxy',
    message: /needs mode ALLOW_ANY/,
  },
  {
    name: 'an egress proxy when it has no port',
    yaml: sc('outboundTrafficPolicy:\n  mode: ALLOW_ANY\n  egressProxy: {host: egress.example.com}'),
    path: 'spec.outboundTrafficPolicy.egressProxy.port',
    message: /is required/,
  },
  {
    name: 'an egress proxy host when it has a wildcard',
    yaml: sc(
      'outboundTrafficPolicy:\n  mode: ALLOW_ANY\n  egressProxy: {host: "*.example.com", port: {number: 443}}',
    ),
    path: 'spec.outboundTrafficPolicy.egressProxy.host',
    message: /label "\*"/,
  },
  {
    name: 'outbound mode ALLOW_ANY_DYNAMIC_DNS, which only MeshConfig has',
    yaml: sc('outboundTrafficPolicy: {mode: ALLOW_ANY_DYNAMIC_DNS}'),
    path: 'spec.outboundTrafficPolicy.mode',
    message: /must be one of REGISTRY_ONLY, ALLOW_ANY/,
  },
  {
    name: 'a selector when a label has a wildcard',
    yaml: sc('workloadSelector: {labels: {app: "rev*"}}\negress:\n- hosts: ["./*"]'),
    path: 'spec.workloadSelector.labels.app',
    message: /wildcards are not allowed in selectors/,
  },
  {
    name: 'a selector when it is written as matchLabels',
    yaml: sc('workloadSelector: {matchLabels: {app: a}}\negress:\n- hosts: ["./*"]'),
    path: 'spec.workloadSelector.matchLabels',
    message: /unknown field/,
  },
];

describe('Sidecar', () => {
  runKindTable('Sidecar', { good, bad });

  it('Sidecar: prints an error with file, line, object and field path', () => {
    const text = sc(`
      egress:
      - port: {number: 8080}
        hosts:
        - "./*"
        - reviews`);
    assert.deepEqual(load(text).errors.map(formatFinding), [
      'x.yaml:11 Sidecar bookinfo/default: spec.egress[0].hosts[1]: must be of the form namespace/dnsName, such as "./*" or "istio-system/*", got "reviews"',
    ]);
  });
});
