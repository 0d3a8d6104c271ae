// The CA's files on disk. Its own root: `root-cert.pem`, `root-key.pem` (0600) and
// `previous-roots.pem` (roots still trusted after a rotation, each with a `Trusted-Until:` line).
// An operator's CA, as Istio's plug-in CA reads it: `ca-cert.pem`, `ca-key.pem`, `root-cert.pem`,
// `cert-chain.pem`. Rotation stages the new root in `root-next.pem` first, so a crash in the middle
// is finished on the next start.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/core.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { pemBlocks } from './pem.ts';

export const ROOT_CERT = 'root-cert.pem';
export const ROOT_KEY = 'root-key.pem';
export const PREVIOUS_ROOTS = 'previous-roots.pem';
export const NEXT_ROOT = 'root-next.pem';
export const PLUGIN_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;

export interface PreviousRoot {
  certPem: string;
  trustedUntil: Date;
}

export interface RootPair {
  certPem: string;
  keyPem: string;
}

export function readText(dir: string, name: string): string | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8');
}

export function readPreviousRoots(dir: string): PreviousRoot[] {
  const text = readText(dir, PREVIOUS_ROOTS);
  if (text === undefined) return [];
  return pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => {
      const note = b.notes.map((n) => /^Trusted-Until:\s*(\S+)/i.exec(n)?.[1]).find((v) => v !== undefined);
      const trustedUntil = new Date(note ?? Number.NaN);
      if (Number.isNaN(trustedUntil.getTime())) {
        throw new AlderError(
          ErrorCode.CaInvalid,
          `${join(dir, PREVIOUS_ROOTS)}: a certificate has no valid "Trusted-Until: <ISO time>" line before it`,
          { hint: 'restore the file from a backup, or delete it to stop trusting previous roots' },
        );
      }
      return { certPem: b.pem, trustedUntil };
    });
}

export function writePreviousRoots(dir: string, roots: readonly PreviousRoot[]): void {
  const text = roots.map((r) => `Trusted-Until: ${r.trustedUntil.toISOString()}\n${r.certPem}`).join('');
  writeFileAtomic(join(dir, PREVIOUS_ROOTS), text);
}

/** Installs a root pair: key first, then certificate, each atomically. */
export function writeRoot(dir: string, root: RootPair): void {
  writeFileAtomic(join(dir, ROOT_KEY), root.keyPem, 0o600);
  writeFileAtomic(join(dir, ROOT_CERT), root.certPem);
}

/** Stages a new root and the trust end of the root it replaces, before anything else changes. */
export function writeNextRoot(dir: string, root: RootPair, previousTrustedUntil: Date): void {
  writeFileAtomic(
    join(dir, NEXT_ROOT),
    `Previous-Trusted-Until: ${previousTrustedUntil.toISOString()}\n${root.keyPem}${root.certPem}`,
    0o600,
  );
}

export function readNextRoot(dir: string): (RootPair & { previousTrustedUntil: Date }) | undefined {
  const text = readText(dir, NEXT_ROOT);
  if (text === undefined) return undefined;
  const blocks = pemBlocks(text);
  const key = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  const cert = blocks.find((b) => b.label === 'CERTIFICATE');
  const until = new Date(/^Previous-Trusted-Until:\s*(\S+)/m.exec(text)?.[1] ?? Number.NaN);
  if (key === undefined || cert === undefined || Number.isNaN(until.getTime())) {
    // A stage that was never completely written: the rotation had not begun.
    removeNextRoot(dir);
    return undefined;
  }
  return { keyPem: key.pem, certPem: cert.pem, previousTrustedUntil: until };
}

export function removeNextRoot(dir: string): void {
  rmSync(join(dir, NEXT_ROOT), { force: true });
}
