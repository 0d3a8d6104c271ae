// Join tokens over the API:
//   POST   /alder/v1/tokens       {namespace, serviceAccount, ttl?: "1h", uses?}  → {token, ...info}
//   GET    /alder/v1/tokens       → {items: [info]}   (never a secret)
//   DELETE /alder/v1/tokens/{id}  → info, revoked
// The token text is answered once, on create; the store keeps only its hash.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlderError, ErrorCode, parseDurationMs } from '../../config/index.ts';
import type { CertificateAuthority } from '../../identity/index.ts';
import type { JoinTokens } from '../identity/index.ts';
import { readBody, send } from './http-io.ts';
import { decodePathSegment } from './paths.ts';

export const TOKENS_PATH = '/alder/v1/tokens';
const MAX_TOKEN_BODY_BYTES = 4096;

export interface TokensContext {
  tokens: JoinTokens | undefined;
  ca: CertificateAuthority | undefined;
}

export async function handleTokens(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: TokensContext,
) {
  const tokens = ctx.tokens;
  if (tokens === undefined)
    throw new AlderError(ErrorCode.NotFound, 'this control plane issues no join tokens');
  const id = path === TOKENS_PATH ? undefined : decodePathSegment(path.slice(TOKENS_PATH.length + 1));
  if (id === undefined && req.method === 'GET')
    return send(req, res, 200, { kind: 'JoinTokenList', items: tokens.list() });
  if (id === undefined && req.method === 'POST') {
    const request = await readCreate(req);
    let created: ReturnType<JoinTokens['create']>;
    try {
      created = tokens.create(request);
    } catch (err) {
      // The shared status table has no entry for this code yet: answer it here as 429.
      if (err instanceof AlderError && err.code === ErrorCode.TokenLimit) {
        return send(req, res, 429, {
          kind: 'Status',
          status: 429,
          code: err.code,
          message: err.message,
          hint: err.hint,
        });
      }
      throw err;
    }
    const { token, info } = created;
    return send(req, res, 201, { kind: 'JoinToken', token, caFingerprint: ctx.ca?.fingerprint(), ...info });
  }
  if (id !== undefined && id !== '' && !id.includes('/') && req.method === 'DELETE') {
    return send(req, res, 200, { kind: 'JoinToken', ...tokens.revoke(id) });
  }
  throw new AlderError(ErrorCode.MethodNotAllowed, `${req.method} is not served on ${path}`, {
    hint: `use GET or POST on ${TOKENS_PATH}, DELETE on ${TOKENS_PATH}/{id}`,
  });
}

async function readCreate(req: IncomingMessage) {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, MAX_TOKEN_BODY_BYTES));
  } catch (err) {
    if (err instanceof AlderError) throw err;
    throw new AlderError(ErrorCode.RequestInvalid, `body must be JSON: ${(err as Error).message}`);
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.namespace !== 'string' || typeof b.serviceAccount !== 'string') {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      'body must be {"namespace":"NS","serviceAccount":"SA","ttl":"1h","uses":N}',
      {
        hint: 'namespace and serviceAccount are required; ttl and uses are optional',
      },
    );
  }
  const request: { namespace: string; serviceAccount: string; ttlMs?: number; uses?: number } = {
    namespace: b.namespace,
    serviceAccount: b.serviceAccount,
  };
  if (b.ttl !== undefined) {
    const ttlMs = typeof b.ttl === 'string' ? parseDurationMs(b.ttl) : undefined;
    if (ttlMs === undefined)
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `ttl must be a duration such as "30m" or "24h", got ${JSON.stringify(b.ttl)}`,
      );
    request.ttlMs = ttlMs;
  }
  if (b.uses !== undefined && b.uses !== null) {
    if (typeof b.uses !== 'number')
      throw new AlderError(ErrorCode.RequestInvalid, `uses must be a number, got ${JSON.stringify(b.uses)}`);
    request.uses = b.uses;
  }
  return request;
}
