import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A DestinationRule in namespace `default` whose trafficPolicy.tls is `tls`, indented by six spaces. */
function tls(text: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  trafficPolicy:
    tls:
${text}
`;
}

const TLS = 'spec.trafficPolicy.tls';

/** The warning a field proxies do not support yet draws (they refuse such requests with 503 UF). */
function unsupported(field: 'credentialName' | 'caCrl'): NonNullable<AcceptCase['warning']> {
  return { path: `${TLS}.${field}`, message: /is not supported yet.*503 UF/ };
}

const good: AcceptCase[] = [
  { name: 'ISTIO_MUTUAL', yaml: tls('      mode: ISTIO_MUTUAL') },
  {
    name: 'SIMPLE TLS with a CA file and SANs',
    yaml: tls(
      '      mode: SIMPLE\n      caCertificates: /ca.pem\n      subjectAltNames: [a.example.com]\n      sni: a.example.com',
    ),
  },
  {
    name: 'MUTUAL TLS from certificate files',
    yaml: tls(
      '      mode: MUTUAL\n      clientCertificate: /c.pem\n      privateKey: /k.pem\n      caCrl: /crl.pem',
    ),
    warning: unsupported('caCrl'),
  },
  {
    name: 'MUTUAL TLS from a credential',
    yaml: tls('      mode: MUTUAL\n      credentialName: client-cert'),
    warning: unsupported('credentialName'),
  },
  {
    name: 'a CA from a ConfigMap in this namespace',
    yaml: tls('      mode: SIMPLE\n      credentialName: configmap://default/ca'),
    warning: unsupported('credentialName'),
  },
  {
    name: 'MUTUAL TLS from a credential that skips verifying the server',
    yaml: tls('      mode: MUTUAL\n      credentialName: c\n      insecureSkipVerify: true'),
    warning: unsupported('credentialName'),
  },
];

const bad: RefuseCase[] = [
  {
    name: 'a CA certificate when insecureSkipVerify is true',
    yaml: tls('      mode: SIMPLE\n      insecureSkipVerify: true\n      caCertificates: /ca.pem'),
    path: `${TLS}.caCertificates`,
    message: /must not be set when insecureSkipVerify is true/,
  },
  {
    name: 'MUTUAL TLS without client certificate and key',
    yaml: tls('      mode: MUTUAL\n      caCertificates: /ca.pem'),
    path: `${TLS}.clientCertificate`,
    message: /is required when mode is MUTUAL \(or set credentialName\)/,
    count: 2,
  },
  {
    name: 'certificate files next to credentialName',
    yaml: tls('      mode: SIMPLE\n      credentialName: ca\n      caCertificates: /ca.pem'),
    path: `${TLS}.caCertificates`,
    message: /must not be set with credentialName/,
  },
  {
    name: 'a ConfigMap credential from another namespace',
    yaml: tls('      mode: SIMPLE\n      credentialName: configmap://other/ca'),
    path: `${TLS}.credentialName`,
    message: /must name a ConfigMap in this namespace \("default"\), got "configmap:\/\/other\/ca"/,
  },
  {
    name: 'an unknown TLS mode',
    yaml: tls('      mode: STRICT'),
    path: `${TLS}.mode`,
    message: /must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL, got "STRICT"/,
  },
  {
    name: 'a credential when SIMPLE TLS skips verifying the server',
    yaml: tls('      mode: SIMPLE\n      insecureSkipVerify: true\n      credentialName: ca'),
    path: `${TLS}.credentialName`,
    message: /must not be set when insecureSkipVerify is true/,
  },
  {
    name: 'subject alt names when MUTUAL TLS skips verifying the server',
    yaml: tls(
      '      mode: MUTUAL\n      insecureSkipVerify: true\n      credentialName: c\n      subjectAltNames: [a]',
    ),
    path: `${TLS}.subjectAltNames`,
    message: /must not be set when insecureSkipVerify is true/,
  },
  {
    name: 'a private key file next to a MUTUAL credential',
    yaml: tls('      mode: MUTUAL\n      credentialName: c\n      privateKey: /k.pem'),
    path: `${TLS}.privateKey`,
    message: /must not be set with credentialName, which provides the certificates/,
  },
  {
    name: 'a ConfigMap credential without namespace',
    yaml: tls('      mode: SIMPLE\n      credentialName: configmap://ca'),
    path: `${TLS}.credentialName`,
    message: /must be "configmap:\/\/<namespace>\/<name>", got "configmap:\/\/ca"/,
  },
];

describe('ClientTLSSettings', () => {
  runKindTable('ClientTLSSettings', { good, bad });

  it('ClientTLSSettings: SIMPLE from a credential warns with file:line, object and field, and is still accepted', () => {
    const result = load(tls('      mode: SIMPLE\n      credentialName: api-cert'));
    assert.equal(result.resources.length, 1, 'want the DestinationRule accepted: a warning, not an error');
    assert.deepEqual(result.warnings.map(formatFinding), [
      'x.yaml:11 DestinationRule default/reviews: spec.trafficPolicy.tls.credentialName: is not supported yet (give caCertificates, clientCertificate and privateKey as files): requests to this host will fail with 503 UF',
    ]);
  });
});
