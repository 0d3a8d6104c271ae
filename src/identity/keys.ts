// Key pairs for workloads and CAs: ECDSA P-256 from node:crypto, exported as PKCS#8 PEM. A proxy
// keeps its private key to itself; only the CSR built from it leaves the process.

import { createPrivateKey, generateKeyPairSync, type KeyObject, type webcrypto } from 'node:crypto';

export interface KeyPairPem {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  privateKeyPem: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string;
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/** The WebCrypto signing algorithm for a private key: ECDSA P-256/P-384 or RSA PKCS#1 v1.5. */
export function signingAlgorithmOf(key: KeyObject):
  | (webcrypto.EcKeyImportParams & { hash: string })
  | {
      name: 'RSASSA-PKCS1-v1_5';
      hash: string;
    } {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    if (curve === 'secp384r1') return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
    throw new Error(`EC curve ${curve} is not supported: use P-256 or P-384`);
  }
  throw new Error(`${key.asymmetricKeyType} keys are not supported: use ECDSA P-256 or RSA`);
}

/** A signing CryptoKey and its algorithm, from a PEM private key (PKCS#8, SEC1 or PKCS#1). */
export function signingKeyOf(pem: string): {
  key: webcrypto.CryptoKey;
  algorithm: ReturnType<typeof signingAlgorithmOf>;
  keyObject: KeyObject;
} {
  const keyObject = createPrivateKey(pem);
  const algorithm = signingAlgorithmOf(keyObject);
  return { key: keyObject.toCryptoKey(algorithm, false, ['sign']), algorithm, keyObject };
}
