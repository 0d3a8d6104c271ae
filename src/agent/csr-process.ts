// Makes the workload's key and CSR in a short-lived child process: the X.509 library it needs
// (@peculiar/x509 and its ASN.1 stack) costs a proxy some 25 MiB of memory that it would otherwise
// keep for its whole life, for a step it takes once a join and once a renewal. The key reaches the
// proxy over the child's stdout pipe and is never written anywhere else.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface KeyAndCsr {
  keyPem: string;
  csrPem: string;
}

const MAIN = fileURLToPath(new URL('./csr-process-main.ts', import.meta.url));
const TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 64 * 1024;

/** A new EC P-256 key and a CSR for `spiffeId` (or for no name), made in a child process. */
export function createKeyAndCsrApart(spiffeId?: string): Promise<KeyAndCsr> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [MAIN, ...(spiffeId === undefined ? [] : [spiffeId])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
    });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
      else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString();
    });
    child.once('error', (err) => reject(new Error(`cannot make the workload key: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code !== 0 && signal === 'SIGTERM' && performance.now() - started >= TIMEOUT_MS) {
        reject(new Error(`cannot make the workload key: the key maker took more than ${TIMEOUT_MS / 1000}s`));
        return;
      }
      if (code !== 0) {
        reject(
          new Error(`cannot make the workload key (exit ${code ?? signal}): ${stderr.trim().slice(0, 500)}`),
        );
        return;
      }
      try {
        const parsed = JSON.parse(Buffer.concat(out).toString('utf8')) as Partial<KeyAndCsr>;
        if (typeof parsed.keyPem !== 'string' || typeof parsed.csrPem !== 'string')
          throw new Error('incomplete');
        resolve({ keyPem: parsed.keyPem, csrPem: parsed.csrPem });
      } catch (err) {
        reject(
          new Error(`cannot make the workload key: the key maker answered badly (${(err as Error).message})`),
        );
      }
    });
  });
}
