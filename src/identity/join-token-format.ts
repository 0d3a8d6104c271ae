// The text of a join token: `alder1.<id>.<secret>.<ca-sha256-hex>`. The id names the token (it is
// shown in lists and used to revoke it); the secret is shown once and stored only hashed; the CA
// hash lets a joining proxy check the control plane's root before it sends the secret, as
// `kubeadm join --discovery-token-ca-cert-hash` does.

import { AlderError, ErrorCode } from '../config/core.ts';

export const TOKEN_PREFIX = 'alder1';
const FORMAT = /^alder1\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{64})$/;

export interface ParsedJoinToken {
  id: string;
  secret: string;
  /** `sha256:<hex>` of the root the control plane served when the token was made. */
  caFingerprint: string;
}

/** Parses a join token; throws ALDER_TOKEN_INVALID (never echoing the text, which holds a secret). */
export function parseJoinToken(text: string): ParsedJoinToken {
  const m = FORMAT.exec(typeof text === 'string' ? text.trim() : '');
  if (m === null) {
    throw new AlderError(
      ErrorCode.TokenInvalid,
      'join token is malformed: want alder1.<12 hex id>.<43 character secret>.<64 hex CA hash>',
      { hint: 'copy the whole token `alder token create` printed, or create a new one' },
    );
  }
  return { id: m[1] as string, secret: m[2] as string, caFingerprint: `sha256:${m[3]}` };
}

export function formatJoinToken(id: string, secret: string, caFingerprint: string): string {
  return `${TOKEN_PREFIX}.${id}.${secret}.${caFingerprint.replace(/^sha256:/, '')}`;
}
