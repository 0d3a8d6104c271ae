// The mesh CA on the API: `GET /alder/v1/ca` shows the roots trusted now and the one that signs;
// `POST /alder/v1/ca/rotate` replaces the CA's own root, keeping the old one trusted for an overlap,
// then the control plane pushes the new bundle to every proxy and serves with a new certificate.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlderError, ErrorCode, parseDurationMs } from '../../config/index.ts';
import type { CertificateAuthority } from '../../identity/index.ts';
import { readBody, send } from './http-io.ts';

export const CA_PATH = '/alder/v1/ca';

export interface CaContext {
  ca: CertificateAuthority | undefined;
  /** After a rotation: push the new bundle, renew the control plane's own certificate. */
  onRootRotated?: () => Promise<void>;
}

export async function handleCa(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: CaContext,
): Promise<void> {
  const ca = ctx.ca;
  if (ca === undefined) throw new AlderError(ErrorCode.NotFound, 'this control plane has no CA');
  if (path === CA_PATH) {
    if (req.method !== 'GET') throw new AlderError(ErrorCode.MethodNotAllowed, `use GET on ${path}`);
    send(req, res, 200, describe(ca));
    return;
  }
  if (path !== `${CA_PATH}/rotate`) throw new AlderError(ErrorCode.NotFound, `no API at ${path}`);
  if (req.method !== 'POST') throw new AlderError(ErrorCode.MethodNotAllowed, `use POST on ${path}`);
  const text = await readBody(req, 4096);
  let overlapMs: number | undefined;
  if (text.trim() !== '') {
    let body: { overlap?: unknown };
    try {
      body = JSON.parse(text) as { overlap?: unknown };
    } catch {
      throw new AlderError(ErrorCode.RequestInvalid, 'the body is not JSON');
    }
    if (body.overlap !== undefined) {
      overlapMs = typeof body.overlap === 'string' ? parseDurationMs(body.overlap) : undefined;
      if (overlapMs === undefined || overlapMs <= 0) {
        throw new AlderError(ErrorCode.RequestInvalid, 'overlap must be a duration such as 48h');
      }
    }
  }
  await ca.rotateRoot(overlapMs === undefined ? {} : { overlapMs });
  await ctx.onRootRotated?.();
  send(req, res, 200, describe(ca));
}

function describe(ca: CertificateAuthority) {
  return {
    mode: ca.mode,
    trustDomain: ca.trustDomain,
    fingerprint: ca.fingerprint(),
    signerNotAfter: ca.signerNotAfter.toISOString(),
    trustBundle: ca.trustBundle(),
  };
}
