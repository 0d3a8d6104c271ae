import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { readCsr } from '../identity/index.ts';
import { createKeyAndCsrApart } from './csr-process.ts';

describe('the workload key, made in a process of its own', () => {
  it('csr: a P-256 key and a CSR for the SPIFFE ID, signed by that key', async () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const { keyPem, csrPem } = await createKeyAndCsrApart(id);
    const key = createPrivateKey(keyPem);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'want an EC P-256 key');
    const csr = await readCsr(csrPem);
    assert.deepEqual(csr.uris, [id], 'want the SPIFFE ID as the one URI SAN');
    assert.equal(
      csr.publicKey.export({ type: 'spki', format: 'pem' }),
      createPublicKey(key).export({ type: 'spki', format: 'pem' }),
      'want the CSR for the key that came back',
    );
    const anonymous = await readCsr((await createKeyAndCsrApart()).csrPem);
    assert.deepEqual(anonymous.uris, [], 'want no name when none is asked for');
  });
});
