// PEM text in and out: splitting a bundle into certificates, and DER to PEM. Explanatory text
// between blocks (RFC 7468 §5.2) is kept apart so that files can note facts beside each block.

import { X509Certificate } from 'node:crypto';
import { AlderError, type ErrorCode } from '../config/core.ts';

const BLOCK =
  /(?:^|\n)((?:[^\n-][^\n]*\n)*)-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \2-----/g;

export interface PemBlock {
  label: string;
  /** The block itself, `-----BEGIN …-----` to `-----END …-----`, with a final newline. */
  pem: string;
  /** Lines of explanatory text just before the block. */
  notes: string[];
}

export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.replace(/\r\n/g, '\n').matchAll(BLOCK)) {
    const label = m[2] as string;
    const body = (m[3] as string).replace(/\s+/g, '');
    const lines = body.match(/.{1,64}/g) ?? [];
    const notes = (m[1] as string).split('\n').filter((l) => l.trim() !== '');
    blocks.push({
      label,
      pem: `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`,
      notes,
    });
  }
  return blocks;
}

/**
 * The certificates of a PEM bundle, in order; throws `code` naming `what` when there is none or one
 * does not parse.
 */
export function parseCertificates(text: string, what: string, code: ErrorCode): X509Certificate[] {
  const certs = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) {
    throw new AlderError(code, `${what}: no PEM certificate found`, {
      hint: 'expected one or more -----BEGIN CERTIFICATE----- blocks',
    });
  }
  return certs.map((b, i) => {
    try {
      return new X509Certificate(b.pem);
    } catch (err) {
      throw new AlderError(code, `${what}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

export function derToPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
