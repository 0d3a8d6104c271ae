// TLS the proxy originates to a destination outside the mesh (a DestinationRule's SIMPLE or MUTUAL
// tls): a secure context built once per cluster version from the files the rule names (the CAs,
// else the system's; the client certificate and key for MUTUAL), the SNI, and how the server's
// certificate is checked (its name against the SNI, or one of subjectAltNames; nothing only when
// insecureSkipVerify asks for that).

import { readFileSync } from 'node:fs';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { TlsOrigination } from '../../wire/index.ts';
import type { MeshTls } from './mesh-tls.ts';

export interface OriginTls {
  readonly kind: 'origin';
  context: SecureContext;
  servername: string;
  /** Whether the server's chain must verify (false only with insecureSkipVerify). */
  verify: boolean;
  /** The name check on the server's certificate (after the chain verified). */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  /** Connections made with these settings, and only they, may be reused for one another. */
  poolKey: string;
}

/** TLS on an upstream connection: mTLS to a peer proxy, or TLS originated to a destination outside the mesh. */
export type UpstreamTls = MeshTls | OriginTls;

export function isOriginTls(tls: UpstreamTls | undefined): tls is OriginTls {
  return tls !== undefined && 'kind' in tls && tls.kind === 'origin';
}

/** The origination's TLS, or why the proxy cannot originate it (a file it cannot read, a field it does not support). */
export function loadOriginTls(o: TlsOrigination): OriginTls | { unusable: string } {
  if (o.unsupported !== undefined) return { unusable: o.unsupported };
  let context: SecureContext;
  try {
    const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
    const ca = read(o.caFile);
    const cert = read(o.certFile);
    const key = read(o.keyFile);
    context = createSecureContext({
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      minVersion: 'TLSv1.2',
    });
  } catch (err) {
    return { unusable: `cannot load its TLS files: ${(err as Error).message}` };
  }
  const sans = o.subjectAltNames;
  return {
    kind: 'origin',
    context,
    servername: o.sni,
    verify: o.insecureSkipVerify !== true,
    checkServerIdentity:
      o.insecureSkipVerify === true
        ? () => undefined
        : sans === undefined
          ? (_host, cert) => checkServerIdentity(o.sni, cert)
          : (_host, cert) => sanCheck(sans, cert),
    poolKey: JSON.stringify([o.sni, o.caFile, o.certFile, o.keyFile, sans, o.insecureSkipVerify]),
  };
}

/** One of `wanted` among the certificate's DNS and URI SANs (a DNS name also by Node's wildcard rules). */
function sanCheck(wanted: readonly string[], cert: PeerCertificate): Error | undefined {
  const sans = (cert.subjectaltname ?? '').split(', ');
  for (const w of wanted) {
    if (sans.includes(`URI:${w}`) || sans.includes(`DNS:${w}`)) return undefined;
    if (!w.includes(':') && checkServerIdentity(w, cert) === undefined) return undefined;
  }
  return new Error(
    `the server's certificate names ${cert.subjectaltname ?? 'no SAN'}, want one of ${wanted.join(', ')}`,
  );
}
