import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isStreamProofSigned, signStreamProof } from './stream-proof.ts';

const KEYS = [
  { name: 'ECDSA P-256', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { name: 'ECDSA P-384', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
  { name: 'RSA 2048', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  { name: 'Ed25519', pair: () => generateKeyPairSync('ed25519') },
];

describe('stream proof', () => {
  for (const k of KEYS) {
    it(`stream proof: signed with ${k.name}, holds for its material and key only`, () => {
      const { privateKey } = k.pair();
      const other = k.pair().privateKey;
      const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const material = randomBytes(32);
      const signature = signStreamProof(keyPem, material);
      const publicKey = createPublicKey(privateKey);
      assert.equal(isStreamProofSigned(publicKey, material, signature), true, 'want its own proof taken');
      assert.equal(
        isStreamProofSigned(publicKey, randomBytes(32), signature),
        false,
        'want a proof for another connection refused',
      );
      assert.equal(
        isStreamProofSigned(createPublicKey(other), material, signature),
        false,
        'want a proof checked against another key refused',
      );
      assert.equal(isStreamProofSigned(publicKey, material, 'not base64 at all!'), false);
    });
  }
});
