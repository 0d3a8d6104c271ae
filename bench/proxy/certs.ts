// Test PKI for the mTLS hop, made with the openssl CLI at run time: a CA and one certificate each for
// workloads a (client side) and b (server side), ECDSA P-256, with SPIFFE URI SANs as a mesh issues
// them plus a DNS SAN, because nginx and HAProxy check a peer's name against DNS SANs only.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRUST_DOMAIN = 'cluster.local';

export interface WorkloadCert {
  /** spiffe://cluster.local/ns/default/sa/NAME */
  spiffeId: string;
  /** NAME.default.svc.cluster.local, the name nginx and HAProxy verify. */
  dnsName: string;
  certFile: string;
  keyFile: string;
  /** Certificate then key in one file, as HAProxy's `crt` wants. */
  pemFile: string;
}

export interface CertFiles {
  caFile: string;
  a: WorkloadCert;
  b: WorkloadCert;
}

export function generateCerts(openssl: string, dir: string): CertFiles {
  // Each command is written as one line and split on spaces: no argument here holds a space.
  const run = (command: string) =>
    execFileSync(openssl, command.split(' '), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  run(
    `req -x509 ${ec} -keyout ca.key -out ca.crt -days 2 -subj /O=${TRUST_DOMAIN}/CN=alder-bench-ca ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
  const caFile = join(dir, 'ca.crt');
  const issue = (sa: string): WorkloadCert => {
    const spiffeId = `spiffe://${TRUST_DOMAIN}/ns/default/sa/${sa}`;
    const dnsName = `${sa}.default.svc.${TRUST_DOMAIN}`;
    writeFileSync(
      join(dir, `${sa}.ext`),
      [
        `subjectAltName=URI:${spiffeId},DNS:${dnsName}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth,clientAuth',
      ].join('\n'),
    );
    run(`req -new ${ec} -keyout ${sa}.key -out ${sa}.csr -subj /O=${TRUST_DOMAIN}`);
    run(
      `x509 -req -in ${sa}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 ` +
        `-extfile ${sa}.ext -out ${sa}.crt`,
    );
    run(`verify -CAfile ca.crt ${sa}.crt`);
    const certFile = join(dir, `${sa}.crt`);
    const keyFile = join(dir, `${sa}.key`);
    const pemFile = join(dir, `${sa}.pem`);
    writeFileSync(pemFile, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'), { mode: 0o600 });
    return { spiffeId, dnsName, certFile, keyFile, pemFile };
  };
  return { caFile, a: issue('a'), b: issue('b') };
}
