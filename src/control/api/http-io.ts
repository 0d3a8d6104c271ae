// The API server's edges: reading bounded request bodies (JSON or YAML), writing JSON or YAML
// answers, and the one table that turns an error into a status code and a JSON Status body.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'yaml';
import { AlderError, ErrorCode, isAlderError, parseSource } from '../../config/index.ts';
import type { Logger } from '../../telemetry/index.ts';

const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ConfigInvalid]: 422,
  [ErrorCode.ConfigParse]: 400,
  [ErrorCode.RequestInvalid]: 400,
  [ErrorCode.RequestTooLarge]: 413,
  [ErrorCode.StoreConflict]: 409,
  [ErrorCode.StoreAlreadyExists]: 409,
  [ErrorCode.StoreNotFound]: 404,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.StoreGone]: 410,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.StoreUnavailable]: 503,
  [ErrorCode.CsrInvalid]: 400,
  [ErrorCode.TokenInvalid]: 401,
  [ErrorCode.TokenRefused]: 403,
  [ErrorCode.TokenLimit]: 429,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Misdirected]: 421,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.StoreFull]: 507,
  [ErrorCode.WatchExpired]: 410,
};

/** Reads the whole body, refusing more than `maxBytes` with 413 before buffering it all. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(maxBytes: number): AlderError {
  return new AlderError(ErrorCode.RequestTooLarge, `request body is larger than ${maxBytes} bytes`, {
    hint: 'split the apply into several files, or start the control plane with a larger --max-body-bytes',
  });
}

/** One object from a JSON or YAML body, parsed exactly as `alder apply` parses files. */
export function parseObjectBody(text: string): Record<string, unknown> {
  const parsed = parseSource('body', text);
  const failure = parsed.failures[0];
  if (failure !== undefined) {
    throw new AlderError(
      ErrorCode.ConfigParse,
      `cannot parse body: line ${failure.line}: ${failure.message}`,
    );
  }
  if (parsed.documents.length !== 1) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `body must hold exactly one object, got ${parsed.documents.length}`,
      {
        hint: 'send several objects to /alder/v1/apply, which stores them all or none',
      },
    );
  }
  const value = parsed.documents[0]?.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      'body must be one object with apiVersion, kind, metadata and spec',
    );
  }
  return value as Record<string, unknown>;
}

function wantsYaml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /\b(application|text)\/(x-)?yaml\b/.test(accept);
}

export function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const yaml = wantsYaml(req);
  const text = yaml ? stringify(body) : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': yaml ? 'application/yaml' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Turns any error into a Status answer; unexpected errors are logged with their stack, never sent. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, log: Logger): void {
  const known = isAlderError(err);
  const status = known ? (STATUS_OF_CODE[err.code] ?? 500) : 500;
  if (!known)
    log.error('request failed', {
      method: req.method,
      url: req.url,
      error: String(err),
      stack: (err as Error)?.stack,
    });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = known
    ? { kind: 'Status', status, code: err.code, message: err.message, hint: err.hint, details: err.details }
    : {
        kind: 'Status',
        status,
        code: ErrorCode.Internal,
        message: 'internal error: see the control plane log',
      };
  if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="alder"');
  send(req, res, status, body);
}
