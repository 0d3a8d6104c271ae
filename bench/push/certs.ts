// Certificates for the bench, made with the openssl CLI: a CA, the control plane's serving
// certificate (IP SAN 127.0.0.1) and one client certificate per service account whose URI SAN is
// its SPIFFE ID, as the mesh CA issues them.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
  ca: string;
}

export function makeCerts(dir: string, serviceAccounts: { namespace: string; name: string }[]) {
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = join(dir, 'ca.pem');
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca-key.pem',
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/O=alder-bench/CN=ca',
  ]);
  const issue = (file: string, san: string): CertFiles => {
    writeFileSync(
      join(dir, `${file}.ext`),
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n`,
    );
    run([
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${file}-key.pem`,
      '-out',
      `${file}.csr`,
      '-subj',
      '/O=alder-bench',
    ]);
    run([
      ...['x509', '-req', '-in', `${file}.csr`, '-CA', ca, '-CAkey', 'ca-key.pem', '-CAcreateserial'],
      ...['-days', '1', '-extfile', `${file}.ext`, '-out', `${file}.pem`],
    ]);
    return { cert: join(dir, `${file}.pem`), key: join(dir, `${file}-key.pem`), ca };
  };
  const server = issue(
    'control-plane',
    'IP:127.0.0.1,URI:spiffe://cluster.local/ns/alder-system/sa/control-plane',
  );
  const clients: Record<string, CertFiles> = {};
  for (const sa of serviceAccounts) {
    clients[sa.name] = issue(
      `sa-${sa.namespace}-${sa.name}`,
      `URI:spiffe://cluster.local/ns/${sa.namespace}/sa/${sa.name}`,
    );
  }
  return { server, clients };
}
