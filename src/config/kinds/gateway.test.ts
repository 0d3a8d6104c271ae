import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, indent, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A Gateway document; `spec` is YAML indented as it would be at the top level. */
function gw(spec: string, apiVersion = 'networking.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: Gateway
metadata:
  name: edge
  namespace: istio-system
spec:
${indent(spec)}
`;
}

/** A Gateway with one server, given as YAML flow mappings for port and tls. */
function server(port: string, extra = '', hosts = '["*.example.com"]'): string {
  return gw(`
    selector: {istio: ingressgateway}
    servers:
    - port: ${port}
      hosts: ${hosts}${extra === '' ? '' : `\n      ${extra}`}`);
}

const HTTPS = '{number: 443, name: https, protocol: HTTPS}';
const HTTP = '{number: 80, name: http, protocol: HTTP}';

const good: AcceptCase[] = [
  {
    name: 'an HTTP server that redirects to HTTPS and an HTTPS server with a credential',
    yaml: gw(`
      selector: {istio: ingressgateway}
      servers:
      - port: ${HTTP}
        hosts: [bookinfo/reviews.example.com, "./*.example.org"]
        tls: {httpsRedirect: true}
      - port: ${HTTPS}
        hosts: ["*/bookinfo.example.com"]
        tls: {mode: SIMPLE, credentialName: bookinfo-cert, minProtocolVersion: TLSV1_2}`),
  },
  {
    name: 'mutual TLS from files, with CRL and client checks',
    yaml: server(
      HTTPS,
      'tls: {mode: MUTUAL, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key, caCertificates: /etc/certs/ca.crt, caCrl: /etc/certs/ca.crl, subjectAltNames: [spiffe://cluster.local/ns/a/sa/b], cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]"]}',
    ),
  },
  {
    name: 'two certificates through tlsCertificates',
    yaml: server(
      HTTPS,
      'tls: {mode: SIMPLE, tlsCertificates: [{serverCertificate: /rsa.crt, privateKey: /rsa.key}, {serverCertificate: /ec.crt, privateKey: /ec.key}]}',
    ),
  },
  {
    name: 'TLS passthrough and AUTO_PASSTHROUGH',
    yaml: gw(`
      servers:
      - port: {number: 443, name: tls, protocol: TLS}
        hosts: ["*"]
        tls: {mode: PASSTHROUGH}
      - port: {number: 15443, name: tls-cross, protocol: tls}
        hosts: ["*.local"]
        tls: {mode: AUTO_PASSTHROUGH}`),
  },
  {
    name: 'ISTIO_MUTUAL on an east-west server',
    yaml: server('{number: 15012, name: tls-istiod, protocol: TLS}', 'tls: {mode: ISTIO_MUTUAL}'),
  },
  {
    name: 'a TCP server, an IP host and a bind address',
    yaml: server(
      '{number: 31400, name: tcp, protocol: TCP}',
      'bind: 10.0.0.5',
      '["10.1.2.3", a.istio-system.svc.cluster.local]',
    ),
  },
  {
    name: 'a server on a unix domain socket with port 0',
    yaml: server('{number: 0, name: uds, protocol: HTTP}', 'bind: unix:///var/run/gw.sock'),
  },
  {
    name: 'v1alpha3',
    yaml: gw(`servers: [{port: ${HTTP}, hosts: ["*"]}]`, 'networking.istio.io/v1alpha3'),
  },
  {
    name: 'certificates with PASSTHROUGH, with a warning that they are ignored',
    yaml: server(HTTPS, 'tls: {mode: PASSTHROUGH, credentialName: cert}'),
    warning: {
      path: 'spec.servers[0].tls',
      message: /mode PASSTHROUGH does not terminate TLS, so its certificates are ignored/,
    },
  },
  {
    name: 'an unknown cipher suite, with a warning',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE, credentialName: c, cipherSuites: [NOT-A-CIPHER]}'),
    warning: {
      path: 'spec.servers[0].tls.cipherSuites',
      message: /ignoring unknown cipher suites: NOT-A-CIPHER/,
    },
  },
  {
    name: 'httpsRedirect on a TLS server, with a warning',
    yaml: server('{number: 443, name: tls, protocol: TLS}', 'tls: {mode: PASSTHROUGH, httpsRedirect: true}'),
    warning: {
      path: 'spec.servers[0].tls.httpsRedirect',
      message: /has an effect only on HTTP servers, not TLS/,
    },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'the name when it has a dot (Istio wants a DNS-1123 label)',
    yaml: gw(`servers: [{port: ${HTTP}, hosts: ["*"]}]`).replace('name: edge', 'name: edge.v2'),
    path: 'metadata.name',
    message: /must be a DNS-1123 label .*no dots.*got "edge\.v2"/,
  },
  {
    name: 'the spec when it has no servers',
    yaml: gw('selector: {istio: ingressgateway}'),
    path: 'spec.servers',
    message: /must have at least one server/,
  },
  {
    name: 'a server when it has no hosts',
    yaml: gw(`servers: [{port: ${HTTP}}]`),
    path: 'spec.servers[0].hosts',
    message: /is required/,
  },
  {
    name: 'a host when it is a short name',
    yaml: server(HTTP, '', '[reviews]'),
    path: 'spec.servers[0].hosts[0]',
    message: /short names are not allowed/,
  },
  {
    name: 'a host when its wildcard is partial',
    yaml: server(HTTP, '', '["ns/*reviews.example.com"]'),
    path: 'spec.servers[0].hosts[0]',
    message: /may use '\*' only as a whole first label/,
  },
  {
    name: 'a host when its namespace is invalid',
    yaml: server(HTTP, '', '["bad_ns/*.example.com"]'),
    path: 'spec.servers[0].hosts[0]',
    message: /namespace must be "\*", "\." or a namespace name, got "bad_ns"/,
  },
  {
    name: 'a port protocol when it is unknown',
    yaml: server('{number: 80, name: web, protocol: WEB}'),
    path: 'spec.servers[0].port.protocol',
    message: /must be one of HTTP, HTTPS, .* got "WEB"/,
  },
  {
    name: 'a port when it has no name',
    yaml: server('{number: 80, protocol: HTTP}'),
    path: 'spec.servers[0].port.name',
    message: /is required/,
  },
  {
    name: 'port 0 when the bind is no unix socket',
    yaml: server('{number: 0, name: http, protocol: HTTP}'),
    path: 'spec.servers[0].port.number',
    message: /must be between 1 and 65535 \(0 only with a unix:\/\/ bind\)/,
  },
  {
    name: 'a port number when the bind is a unix socket',
    yaml: server(HTTP, 'bind: unix:///var/run/gw.sock'),
    path: 'spec.servers[0].port.number',
    message: /must be 0 when bind is a unix domain socket, got 80/,
  },
  {
    name: 'a bind when it is no IP address',
    yaml: server(HTTP, 'bind: localhost'),
    path: 'spec.servers[0].bind',
    message: /must be an IP address or a unix:\/\/ socket path/,
  },
  {
    name: 'targetPort when it is set',
    yaml: server('{number: 80, name: http, protocol: HTTP, targetPort: 8080}'),
    path: 'spec.servers[0].port.targetPort',
    message: /has no effect on Gateways/,
  },
  {
    name: 'a port name when another server has it',
    yaml: gw(
      `servers: [{port: ${HTTP}, hosts: ["*"]}, {port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]`,
    ),
    path: 'spec.servers[1].port.name',
    message: /duplicates the port name of servers\[0\]/,
  },
  {
    name: 'an HTTPS server when it has no tls',
    yaml: server(HTTPS),
    path: 'spec.servers[0].tls',
    message: /is required for HTTPS servers/,
  },
  {
    name: 'an HTTP server when it terminates TLS',
    yaml: server(HTTP, 'tls: {mode: SIMPLE, credentialName: cert}'),
    path: 'spec.servers[0].tls',
    message: /a plain-text HTTP server may use tls only for httpsRedirect: use protocol HTTPS/,
  },
  {
    name: 'a TCP server when it has tls',
    yaml: server('{number: 31400, name: tcp, protocol: TCP}', 'tls: {mode: PASSTHROUGH}'),
    path: 'spec.servers[0].tls',
    message: /must not be set for TCP servers/,
  },
  {
    name: 'SIMPLE TLS when it has no certificate',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE}'),
    path: 'spec.servers[0].tls.serverCertificate',
    message: /is required for SIMPLE TLS \(or use credentialName\)/,
    count: 2,
  },
  {
    name: 'MUTUAL TLS from files when it has no CA bundle',
    yaml: server(HTTPS, 'tls: {mode: MUTUAL, serverCertificate: /a.crt, privateKey: /a.key}'),
    path: 'spec.servers[0].tls.caCertificates',
    message: /is required for MUTUAL TLS/,
  },
  {
    name: 'ISTIO_MUTUAL when it names a credential',
    yaml: server(HTTPS, 'tls: {mode: ISTIO_MUTUAL, credentialName: cert}'),
    path: 'spec.servers[0].tls.credentialName',
    message: /must not be set with mode ISTIO_MUTUAL/,
  },
  {
    name: 'certificates when they come from two sources',
    yaml: server(
      HTTPS,
      'tls: {mode: SIMPLE, credentialName: cert, serverCertificate: /a.crt, privateKey: /a.key}',
    ),
    path: 'spec.servers[0].tls',
    message:
      /must take certificates from one source only, got serverCertificate\/privateKey and credentialName/,
  },
  {
    name: 'credentialName when credentialNames is set too',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE, credentialName: a, credentialNames: [b]}'),
    path: 'spec.servers[0].tls',
    message: /only one of credentialName, credentialNames may be set/,
  },
  {
    name: 'credentialNames when there are three',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE, credentialNames: [a, b, c]}'),
    path: 'spec.servers[0].tls.credentialNames',
    message: /must have at most 2 items, got 3/,
  },
  {
    name: 'a CRL when the mode is SIMPLE',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE, serverCertificate: /a.crt, privateKey: /a.key, caCrl: /ca.crl}'),
    path: 'spec.servers[0].tls.caCrl',
    message: /needs mode MUTUAL or OPTIONAL_MUTUAL/,
  },
  {
    name: 'a TLS version when it is unknown',
    yaml: server(HTTPS, 'tls: {mode: SIMPLE, credentialName: a, minProtocolVersion: TLSV1_4}'),
    path: 'spec.servers[0].tls.minProtocolVersion',
    message: /must be one of TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2, TLSV1_3, got "TLSV1_4"/,
  },
];

describe('Gateway', () => {
  runKindTable('Gateway', { good, bad });

  it('Gateway: prints an error with file, line, object and field path', () => {
    const text = gw(`
      servers:
      - port: {number: 443, name: https, protocol: HTTPS}
        hosts: ["*.example.com"]
        tls:
          mode: MUTUAL
          credentialName: edge-cert
          credentialNames: [other-cert]`);
    assert.deepEqual(load(text).errors.map(formatFinding), [
      'x.yaml:10 Gateway istio-system/edge: spec.servers[0].tls: only one of credentialName, credentialNames may be set, got credentialName and credentialNames',
    ]);
  });
});
