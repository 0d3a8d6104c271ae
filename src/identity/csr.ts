// PKCS#10 certificate signing requests for a workload's SPIFFE ID: built by the proxy with the key
// it keeps, read by the CA, which verifies the signature and reads the requested names.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { AlderError, ErrorCode } from '../config/core.ts';
import { generateKeyPair, signingKeyOf } from './keys.ts';
import { pemBlocks } from './pem.ts';
import { x509 } from './x509-lib.ts';

/** Largest CSR read, in bytes: a P-256 request is about 400, RSA 4096 about 1,700. */
const MAX_CSR_BYTES = 16 * 1024;
const SUBJECT_ALT_NAME_OID = '2.5.29.17';

export interface KeyAndCsr {
  /** PKCS#8 PEM; stays with the caller. */
  keyPem: string;
  csrPem: string;
}

/**
 * A new ECDSA P-256 key and a CSR for `spiffeId` (its only SAN), signed with that key. Without a
 * SPIFFE ID the CSR asks for no name: the CA gives the identity its caller is entitled to (a proxy
 * joining with a token learns its service account from the answer).
 */
export async function createKeyAndCsr(spiffeId?: string): Promise<KeyAndCsr> {
  const { privateKeyPem } = generateKeyPair();
  return { keyPem: privateKeyPem, csrPem: await createCsr(privateKeyPem, spiffeId) };
}

/** A CSR for `spiffeId` (or for no name) signed with an existing private key (PEM). */
export async function createCsr(keyPem: string, spiffeId?: string): Promise<string> {
  const { key, algorithm, keyObject } = signingKeyOf(keyPem);
  const publicKey = createPublicKey(keyObject).toCryptoKey(algorithm, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: key, publicKey },
    signingAlgorithm: algorithm,
    extensions:
      spiffeId === undefined
        ? []
        : [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true)],
  });
  return csr.toString('pem');
}

export interface CsrContents {
  publicKey: KeyObject;
  /** The URI SANs asked for, in order. */
  uris: string[];
  /** Every other SAN asked for (`dns:…`, `ip:…`, `email:…`), which a workload CSR must not carry. */
  otherNames: string[];
  /** The request as the signing library reads it, for the CA. */
  request: InstanceType<typeof x509.Pkcs10CertificateRequest>;
}

/** Reads and verifies a PEM CSR; throws ALDER_CSR_INVALID saying what is wrong. */
export async function readCsr(csrPem: string): Promise<CsrContents> {
  if (typeof csrPem !== 'string' || csrPem.length === 0) throw invalid('the CSR is empty');
  if (csrPem.length > MAX_CSR_BYTES) throw invalid(`the CSR is larger than ${MAX_CSR_BYTES} bytes`);
  const blocks = pemBlocks(csrPem).filter(
    (b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST',
  );
  if (blocks.length !== 1) {
    throw invalid(`want exactly one PEM CERTIFICATE REQUEST block, got ${blocks.length}`);
  }
  let request: InstanceType<typeof x509.Pkcs10CertificateRequest>;
  try {
    request = new x509.Pkcs10CertificateRequest((blocks[0] as { pem: string }).pem);
  } catch (err) {
    throw invalid(`the CSR is not a PKCS#10 request: ${(err as Error).message}`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (err) {
    throw invalid(`the CSR's public key does not parse: ${(err as Error).message}`);
  }
  checkKey(publicKey);
  let verified = false;
  try {
    verified = await request.verify();
  } catch (err) {
    throw invalid(`the CSR's signature cannot be checked: ${(err as Error).message}`);
  }
  if (!verified) throw invalid('the CSR signature does not match its public key');
  const sanExtension = request.getExtension(SUBJECT_ALT_NAME_OID);
  const san =
    sanExtension === null ? undefined : new x509.SubjectAlternativeNameExtension(sanExtension.rawData);
  const uris: string[] = [];
  const otherNames: string[] = [];
  for (const name of san?.names.toJSON() ?? []) {
    if (name.type === 'url') uris.push(name.value);
    else otherNames.push(`${name.type}:${name.value}`);
  }
  return { publicKey, uris, otherNames, request };
}

function checkKey(key: KeyObject): void {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1') return;
    throw invalid(`the CSR's EC key is on curve ${curve}; use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits >= 2048) return;
    throw invalid(`the CSR's RSA key has ${bits} bits; use at least 2048, or ECDSA P-256`);
  }
  throw invalid(`the CSR's ${key.asymmetricKeyType} key is not supported; use ECDSA P-256`);
}

function invalid(message: string): AlderError {
  return new AlderError(ErrorCode.CsrInvalid, `invalid CSR: ${message}`, {
    hint: 'send a PEM PKCS#10 request signed by the workload key, such as createKeyAndCsr builds',
  });
}
