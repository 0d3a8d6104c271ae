// ClientTLSSettings: how a sidecar talks TLS to an upstream (DestinationRule trafficPolicy.tls).
// Ports Istio's agent.ValidateTLS: which certificate fields each mode needs or forbids. Proxies do
// not originate TLS yet, so SIMPLE and MUTUAL draw a warning (and requests to such hosts fail).

import { arr, bool, type Checker, type ObjectOf, obj, str } from '../schema.ts';

const CONFIGMAP_PREFIX = 'configmap://';

const fields = {
  mode: str({ enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] }),
  clientCertificate: str(),
  privateKey: str(),
  caCertificates: str(),
  credentialName: str(),
  subjectAltNames: arr(str()),
  sni: str(),
  insecureSkipVerify: bool(),
  caCrl: str(),
};

/** Istio's ClientTLSSettings; `mode` defaults to DISABLE. */
export const clientTls = obj(fields, {
  name: 'a client TLS setting',
  refine: (v, c) => checkClientTls(v, c),
});

export type ClientTLSSettings = ObjectOf<typeof fields, never>;

function checkClientTls(v: ClientTLSSettings, c: Checker): void {
  if ((v.mode === 'SIMPLE' || v.mode === 'MUTUAL') && (v.credentialName ?? '') !== '') {
    c.warn(
      'is not supported yet (give caCertificates, clientCertificate and privateKey as files): requests to this host will fail with 503 UF',
      'credentialName',
    );
  }
  if ((v.mode === 'SIMPLE' || v.mode === 'MUTUAL') && (v.caCrl ?? '') !== '') {
    c.warn(
      'is not supported yet: requests to this host will fail with 503 UF rather than skip the check',
      'caCrl',
    );
  }
  const credentialName = v.credentialName ?? '';
  if (credentialName.startsWith(CONFIGMAP_PREFIX)) checkConfigMapCredential(credentialName, c);
  const set = (s: string | undefined) => s !== undefined && s !== '';
  const hasSans = v.subjectAltNames !== undefined && v.subjectAltNames.length > 0;
  if (v.insecureSkipVerify === true && (v.mode === 'SIMPLE' || v.mode === 'MUTUAL')) {
    // In MUTUAL mode credentialName also carries the client certificate, so it stays allowed.
    const forbidden: [string, boolean][] = [
      ['caCertificates', set(v.caCertificates)],
      ['credentialName', v.mode === 'SIMPLE' && set(v.credentialName)],
      ['subjectAltNames', hasSans],
    ];
    for (const [field, isSet] of forbidden) {
      if (isSet)
        c.error(`must not be set when insecureSkipVerify is true: it skips verifying the server`, field);
    }
  }
  if ((v.mode === 'SIMPLE' || v.mode === 'MUTUAL') && set(v.credentialName)) {
    for (const field of ['clientCertificate', 'caCertificates', 'privateKey', 'caCrl'] as const) {
      if (set(v[field]))
        c.error('must not be set with credentialName, which provides the certificates', field);
    }
    return;
  }
  if (v.mode === 'MUTUAL') {
    if (!set(v.clientCertificate))
      c.error('is required when mode is MUTUAL (or set credentialName)', 'clientCertificate');
    if (!set(v.privateKey)) c.error('is required when mode is MUTUAL (or set credentialName)', 'privateKey');
  }
}

/** `configmap://<namespace>/<name>`, which must name this object's own namespace. */
function checkConfigMapCredential(credentialName: string, c: Checker): void {
  const [namespace = '', name = ''] = credentialName.slice(CONFIGMAP_PREFIX.length).split('/');
  const here = c.context.namespace;
  if (namespace === '' || name === '') {
    c.error(
      `must be "configmap://<namespace>/<name>", got ${JSON.stringify(credentialName)}`,
      'credentialName',
    );
  } else if (namespace !== here || here === '') {
    c.error(
      `must name a ConfigMap in this namespace (${JSON.stringify(here)}), got ${JSON.stringify(credentialName)}`,
      'credentialName',
    );
  }
}
