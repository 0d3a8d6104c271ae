// Istio's ServerTLSSettings: how a Gateway server or a Sidecar ingress listener terminates (or passes
// through) TLS, checked as Istio's validateTLSOptions and the CRD's CEL rules do. Gateway and Sidecar
// add their own rules on top.

import { arr, bool, type Checker, type Infer, type ObjectOf, obj, str } from '../schema.ts';

const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

export const TLS_MODES = [
  'PASSTHROUGH',
  'SIMPLE',
  'MUTUAL',
  'AUTO_PASSTHROUGH',
  'ISTIO_MUTUAL',
  'OPTIONAL_MUTUAL',
] as const;
export type ServerTlsMode = (typeof TLS_MODES)[number];

/** Cipher suites Envoy's BoringSSL knows (Istio's security.ValidCipherSuites). */
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA',
  'AES256-SHA',
  'DES-CBC3-SHA',
]);

/** Istio's IsValidCipherSuite: a known suite, "ALL", or an expression starting with an operator. */
function isValidCipherSuite(cs: string): boolean {
  if (cs === '' || cs === 'ALL') return true;
  if (!/^[\p{L}\p{N}]/u.test(cs)) return true;
  return CIPHER_SUITES.has(cs);
}

const tlsCertificate = obj(
  { serverCertificate: str(), privateKey: str(), caCertificates: str() },
  { name: 'a TLS certificate (serverCertificate, privateKey, caCertificates)' },
);

const fields = {
  httpsRedirect: bool(),
  mode: str({ enum: TLS_MODES }),
  serverCertificate: str(),
  privateKey: str(),
  caCertificates: str(),
  caCrl: str(),
  credentialName: str(),
  credentialNames: arr(str(), { minItems: 1, maxItems: 2 }),
  tlsCertificates: arr(tlsCertificate, { minItems: 1, maxItems: 2 }),
  caCertCredentialName: str(),
  subjectAltNames: arr(str()),
  verifyCertificateSpki: arr(str()),
  verifyCertificateHash: arr(str()),
  minProtocolVersion: str({ enum: TLS_VERSIONS }),
  maxProtocolVersion: str({ enum: TLS_VERSIONS }),
  cipherSuites: arr(str()),
  ecdhCurves: arr(str()),
  insecureSkipVerify: bool(),
};

export type ServerTLSSettings = ObjectOf<typeof fields, never>;

export const serverTlsSettings = obj(fields, {
  name: 'server TLS settings',
  oneOf: [
    ['credentialNames', 'tlsCertificates'],
    ['credentialName', 'credentialNames'],
  ],
  refine: checkServerTls,
});

/** The mode Istio reads when none is given (the enum's zero value). */
export function tlsModeOf(tls: ServerTLSSettings): ServerTlsMode {
  return (tls.mode ?? 'PASSTHROUGH') as ServerTlsMode;
}

/** Istio's validateTLSOptions. */
function checkServerTls(tls: ServerTLSSettings, c: Checker): void {
  const mode = tlsModeOf(tls);
  checkCiphers(tls, c);
  if (mode === 'ISTIO_MUTUAL') {
    for (const f of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const) {
      if (tls[f])
        c.error("must not be set with mode ISTIO_MUTUAL, which uses the mesh's own certificates", f);
    }
    for (const f of ['tlsCertificates', 'credentialNames'] as const) {
      if ((tls[f]?.length ?? 0) > 0) {
        c.error("must not be set with mode ISTIO_MUTUAL, which uses the mesh's own certificates", f);
      }
    }
    return;
  }
  if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') {
    const certs = ['caCrl', 'serverCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const;
    if (certs.some((f) => tls[f]) || tls.tlsCertificates?.length || tls.credentialNames?.length) {
      c.warn(`mode ${mode} does not terminate TLS, so its certificates are ignored`);
    }
  }
  const sources = [
    tls.serverCertificate && tls.privateKey ? 'serverCertificate/privateKey' : '',
    tls.credentialName ? 'credentialName' : '',
    tls.credentialNames?.length ? 'credentialNames' : '',
    tls.tlsCertificates?.length ? 'tlsCertificates' : '',
  ].filter((s) => s !== '');
  if (sources.length > 1) {
    c.error(`must take certificates from one source only, got ${sources.join(' and ')}`);
  }
  const terminates = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  if (terminates && (tls.credentialName || tls.credentialNames?.length)) return;
  if (terminates) checkCertificates(tls, mode, c);
  if (tls.caCrl) {
    if (tls.credentialName)
      c.error('cannot be used with credentialName: put the CRL in the credential', 'caCrl');
    if (mode === 'SIMPLE')
      c.error('needs mode MUTUAL or OPTIONAL_MUTUAL: SIMPLE TLS checks no client certificate', 'caCrl');
  }
}

/** What SIMPLE and MUTUAL modes need when they read certificates from files. */
function checkCertificates(tls: ServerTLSSettings, mode: ServerTlsMode, c: Checker): void {
  const label = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
  if (mode !== 'SIMPLE' && !tls.caCertificates) {
    c.error(
      `is required for ${label}, to check client certificates (or use credentialName)`,
      'caCertificates',
    );
  }
  if (tls.tlsCertificates?.length) {
    tls.tlsCertificates.forEach((cert, i) => {
      if (!cert.serverCertificate)
        c.error(`is required for ${label}`, 'tlsCertificates', i, 'serverCertificate');
      if (!cert.privateKey) c.error(`is required for ${label}`, 'tlsCertificates', i, 'privateKey');
    });
    return;
  }
  if (!tls.serverCertificate)
    c.error(`is required for ${label} (or use credentialName)`, 'serverCertificate');
  if (!tls.privateKey) c.error(`is required for ${label} (or use credentialName)`, 'privateKey');
}

function checkCiphers(tls: ServerTLSSettings, c: Checker): void {
  const suites = tls.cipherSuites ?? [];
  if ((tls.minProtocolVersion === 'TLSV1_0' || tls.minProtocolVersion === 'TLSV1_1') && suites.length === 0) {
    c.warn(
      'TLS versions below 1.2 need cipherSuites set: the default suites no longer include compatible ones',
    );
  }
  const invalid = new Set<string>();
  const seen = new Set<string>();
  const duplicate = new Set<string>();
  for (const cs of suites) {
    if (!isValidCipherSuite(cs)) invalid.add(cs);
    else if (seen.has(cs)) duplicate.add(cs);
    else seen.add(cs);
  }
  if (invalid.size > 0)
    c.warn(`ignoring unknown cipher suites: ${[...invalid].sort().join(', ')}`, 'cipherSuites');
  if (duplicate.size > 0)
    c.warn(`ignoring duplicate cipher suites: ${[...duplicate].sort().join(', ')}`, 'cipherSuites');
}

export type TLSCertificate = Infer<typeof tlsCertificate>;
