// Test certificates made with the openssl CLI: a mesh CA and workload certificates whose URI SAN is
// the workload's SPIFFE ID, as the mesh CA will issue them.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkloadCert {
  cert: string;
  key: string;
  ca: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Makes `ca.pem` in `dir` once; returns a function issuing a certificate for a SPIFFE ID (or, with
 * `san`, for that subjectAltName value instead, such as `DNS:api.example.test`).
 */
export function meshCa(
  dir: string,
  name = 'ca',
): (spiffeId: string, file: string, san?: string) => WorkloadCert {
  const ca = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}-key.pem`);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/O=alder-test/CN=${name}`,
      '-keyout',
      caKey,
      '-out',
      ca,
    ],
    dir,
  );
  return (spiffeId, file, san = `URI:${spiffeId}`) => {
    const key = join(dir, `${file}-key.pem`);
    const csr = join(dir, `${file}.csr`);
    const cert = join(dir, `${file}.pem`);
    const ext = join(dir, `${file}.ext`);
    writeFileSync(
      ext,
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`,
    );
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        `/O=alder-test`,
        '-keyout',
        key,
        '-out',
        csr,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        ext,
        '-out',
        cert,
      ],
      dir,
    );
    return { cert, key, ca };
  };
}
