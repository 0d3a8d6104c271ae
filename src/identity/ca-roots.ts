// The CA's roots: its own root (made on first start, kept in the CA folder, replaced by a rotation
// that keeps the old one trusted for an overlap) or an operator's plug-in CA, read and checked as a
// signer the CertificateAuthority signs with.

import { createPrivateKey, createPublicKey, randomBytes, type X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/core.ts';
import {
  PLUGIN_FILES,
  ROOT_CERT,
  ROOT_KEY,
  type RootPair,
  readNextRoot,
  readPreviousRoots,
  readText,
  removeNextRoot,
  writePreviousRoots,
  writeRoot,
} from './ca-files.ts';
import { generateKeyPair, signingKeyOf } from './keys.ts';
import { parseCertificates } from './pem.ts';
import { x509 } from './x509-lib.ts';

const DAY_MS = 24 * 60 * 60_000;
/** Certificates' notBefore is set this far back, for peers whose clocks run behind. */
export const CLOCK_SKEW_MS = 60_000;
const ROOT_LIFETIME_MS = 3650 * DAY_MS;

export interface Signer {
  cert: X509Certificate;
  /** The issuer name exactly as encoded in the signer's certificate. */
  name: InstanceType<typeof x509.X509Certificate>['subjectName'];
  issuerCert: InstanceType<typeof x509.X509Certificate>;
  key: ReturnType<typeof signingKeyOf>;
  /** Intermediates between the signer and the root, PEM, signer first; empty when the signer is the root. */
  intermediatesPem: string;
}

/** 16 random bytes, positive (top bit clear) and never starting with a zero byte. */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export async function createRoot(trustDomain: string, now: number): Promise<RootPair> {
  const { privateKeyPem } = generateKeyPair();
  const key = signingKeyOf(privateKeyPem);
  const publicKey = createPublicKey(key.keyObject).toCryptoKey(key.algorithm, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `O=${trustDomain}, CN=Alder root CA ${new Date(now).toISOString().slice(0, 10)}`,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + ROOT_LIFETIME_MS),
    keys: { privateKey: key.key, publicKey },
    signingAlgorithm: key.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: privateKeyPem };
}

/** The root pair in `dir`, or undefined on first start (no certificate yet). */
export function loadRoot(dir: string): RootPair | undefined {
  const certPem = readText(dir, ROOT_CERT);
  if (certPem === undefined) return undefined;
  const keyPem = readText(dir, ROOT_KEY);
  if (keyPem === undefined) {
    throw caInvalid(
      `${join(dir, ROOT_CERT)} exists but ${ROOT_KEY} beside it does not`,
      'restore root-key.pem from a backup; without it the CA cannot sign',
    );
  }
  return { certPem, keyPem };
}

/** Completes a rotation staged in root-next.pem: the old root joins previous-roots, the new one is installed. */
export function finishRotation(dir: string, now: number): void {
  const next = readNextRoot(dir);
  if (next === undefined) return;
  const current = readText(dir, ROOT_CERT);
  const previous = readPreviousRoots(dir).filter((p) => p.trustedUntil.getTime() > now);
  if (
    current !== undefined &&
    current.trim() !== next.certPem.trim() &&
    !previous.some((p) => p.certPem.trim() === current.trim())
  ) {
    previous.push({ certPem: current, trustedUntil: next.previousTrustedUntil });
  }
  writePreviousRoots(dir, previous);
  writeRoot(dir, next);
  removeNextRoot(dir);
}

export async function signerOf(
  pair: RootPair,
  intermediatesPem: string,
  certFile: string,
  keyFile = certFile.replace(/cert\.pem$/, 'key.pem'),
): Promise<Signer> {
  const cert = parseCertificates(pair.certPem, certFile, ErrorCode.CaInvalid)[0] as X509Certificate;
  if (!cert.ca)
    throw caInvalid(
      `${certFile} is not a CA certificate (basicConstraints CA:FALSE)`,
      'give a certificate made with CA:TRUE and keyCertSign',
    );
  let key: ReturnType<typeof signingKeyOf>;
  try {
    key = signingKeyOf(pair.keyPem);
  } catch (err) {
    throw caInvalid(
      `${keyFile}: ${(err as Error).message}`,
      'give the PEM private key of the CA certificate',
    );
  }
  if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) {
    throw caInvalid(
      `${keyFile} is not the key of ${certFile}`,
      'put the matching key and certificate side by side',
    );
  }
  const issuerCert = new x509.X509Certificate(cert.raw);
  return { cert, name: issuerCert.subjectName, issuerCert, key, intermediatesPem };
}

export async function loadPlugin(
  dir: string,
  now: number,
): Promise<{ signer: Signer; roots: X509Certificate[] }> {
  const missing = PLUGIN_FILES.filter((f) => readText(dir, f) === undefined);
  if (missing.length > 0) {
    throw caInvalid(
      `plug-in CA folder ${dir} misses ${missing.join(', ')}`,
      `a plug-in CA folder holds ${PLUGIN_FILES.join(', ')}, as Istio's cacerts secret does`,
    );
  }
  const text = (f: string) => readText(dir, f) as string;
  const roots = parseCertificates(text('root-cert.pem'), join(dir, 'root-cert.pem'), ErrorCode.CaInvalid);
  const caCert = parseCertificates(
    text('ca-cert.pem'),
    join(dir, 'ca-cert.pem'),
    ErrorCode.CaInvalid,
  )[0] as X509Certificate;
  const chain = parseCertificates(text('cert-chain.pem'), join(dir, 'cert-chain.pem'), ErrorCode.CaInvalid);
  // The chain served with each leaf: the CA certificate and the intermediates above it, never a root.
  const selfSigned = (c: X509Certificate) => c.checkIssued(c);
  const intermediates = [caCert, ...chain.filter((c) => c.fingerprint256 !== caCert.fingerprint256)].filter(
    (c) => !selfSigned(c),
  );
  const intermediatesPem = intermediates
    .map((c) => c.toString())
    .map((p) => (p.endsWith('\n') ? p : `${p}\n`))
    .join('');
  const signer = await signerOf(
    { certPem: text('ca-cert.pem'), keyPem: text('ca-key.pem') },
    intermediatesPem,
    join(dir, 'ca-cert.pem'),
  );
  if (now > caCert.validToDate.getTime())
    throw caInvalid(
      `${join(dir, 'ca-cert.pem')} expired at ${caCert.validToDate.toISOString()}`,
      'replace the plug-in CA files',
    );
  // The CA certificate must lead to root-cert.pem through cert-chain.pem.
  let current = caCert;
  for (let depth = 0; !roots.some((r) => current.checkIssued(r) && current.verify(r.publicKey)); depth++) {
    const parent = chain.find(
      (c) => c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (parent === undefined || depth > 8) {
      throw caInvalid(
        `${join(dir, 'ca-cert.pem')} does not chain to ${join(dir, 'root-cert.pem')} through cert-chain.pem`,
        'cert-chain.pem must hold ca-cert.pem and every intermediate up to the root in root-cert.pem',
      );
    }
    current = parent;
  }
  return { signer, roots };
}

export function caInvalid(message: string, hint: string): AlderError {
  return new AlderError(ErrorCode.CaInvalid, `mesh CA: ${message}`, { hint });
}
