// What every API request passes before it is routed: a Host the server knows (421 otherwise, against
// DNS rebinding), no foreign Origin (403, against cross-site pages), a bearer token or an admin client
// certificate (401/403), and a JSON or YAML body on writes (415). Health paths stay open.

import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { AlderError, ErrorCode } from '../../config/index.ts';
import type { ApiTokens, Principal } from '../auth/index.ts';

/** Answered to anyone: liveness and readiness probes, and the version. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface GuardOptions {
  tokens: ApiTokens;
  hosts: HostPolicy;
  /** The principal of a verified client certificate on a TLS socket (the mesh port). */
  authenticateCertificate?: (socket: TLSSocket) => Principal | undefined;
}

/** Checks a request to a guarded path; answers who made it, or throws the Status to answer. */
export function guardRequest(req: IncomingMessage, o: GuardOptions): Principal {
  const host = req.headers.host ?? '';
  if (!o.hosts.isAllowed(host)) {
    throw new AlderError(
      ErrorCode.Misdirected,
      `this control plane does not serve the host ${JSON.stringify(host)}`,
      {
        hint: 'call it by its listen address or localhost, or start it with --allowed-host NAME for the name you use',
      },
    );
  }
  const isTls = (req.socket as Partial<TLSSocket>).encrypted === true;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `${isTls ? 'https' : 'http'}://${host}`) {
    throw new AlderError(ErrorCode.Forbidden, `cross-origin requests are refused (Origin: ${origin})`, {
      hint: 'call the API from the alder CLI or a client that sends no foreign Origin header',
    });
  }
  const principal = authenticate(req, o);
  if (principal.kind !== 'admin') {
    throw new AlderError(ErrorCode.Forbidden, `${principal.name} may not use the control plane's API`, {
      hint: 'workload certificates reach only the config stream and renewal; use the admin token',
    });
  }
  checkContentType(req);
  return principal;
}

function authenticate(req: IncomingMessage, o: GuardOptions): Principal {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer +(\S+) *$/i.exec(header);
    const principal = m?.[1] === undefined ? undefined : o.tokens.verify(m[1]);
    if (principal === undefined) {
      throw unauthenticated(
        m === null ? 'the Authorization header must be "Bearer TOKEN"' : 'the bearer token is not valid',
      );
    }
    return principal;
  }
  const byCertificate =
    (req.socket as Partial<TLSSocket>).encrypted === true
      ? o.authenticateCertificate?.(req.socket as TLSSocket)
      : undefined;
  if (byCertificate !== undefined) return byCertificate;
  throw unauthenticated('this API needs a bearer token (Authorization: Bearer TOKEN)');
}

function unauthenticated(message: string): AlderError {
  return new AlderError(ErrorCode.Unauthenticated, message, {
    hint: "send the admin token from the data directory's admin-token file (alder: --token, $ALDER_TOKEN, or $ALDER_DATA_DIR)",
  });
}

const BODY_TYPE = /^(application\/([\w.+-]+\+)?json|(application|text)\/(x-)?yaml)\s*(;|$)/i;

/** A write carries JSON or YAML: a form or `text/plain` post (a web page's) is refused with 415. */
function checkContentType(req: IncomingMessage): void {
  if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return;
  const type = req.headers['content-type'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (type === undefined ? !hasBody : BODY_TYPE.test(type)) return;
  throw new AlderError(
    ErrorCode.UnsupportedMediaType,
    `a ${req.method} body must be JSON or YAML, got content-type ${type === undefined ? '(none)' : JSON.stringify(type)}`,
    { hint: 'send Content-Type: application/json or application/yaml' },
  );
}

/**
 * The Host headers a server answers: its listen addresses and localhost names with their ports,
 * and names an operator allows (`NAME` for any port, `NAME:PORT` for one).
 */
export class HostPolicy {
  readonly #hostPorts = new Set<string>();
  readonly #names = new Set<string>();

  constructor(allowed: readonly string[] = []) {
    for (const entry of allowed) {
      const e = entry.toLowerCase();
      if (/:\d+$/.test(e)) this.#hostPorts.add(e);
      else this.#names.add(e);
    }
  }

  /** Adds a listener: its own address with the port, or every local address when it is a wildcard. */
  allowListener(host: string, port: number): void {
    const hosts = ['localhost', '127.0.0.1', '::1'];
    if (host === '0.0.0.0' || host === '::' || host === '') {
      for (const list of Object.values(networkInterfaces()))
        for (const i of list ?? []) hosts.push(i.address);
    } else hosts.push(host);
    for (const h of hosts) this.#hostPorts.add(`${h.includes(':') ? `[${h}]` : h}:${port}`.toLowerCase());
  }

  /** Also a name for any port (mesh names the certificate carries). */
  allowName(name: string): void {
    this.#names.add(name.toLowerCase());
  }

  isAllowed(hostHeader: string): boolean {
    const host = hostHeader.toLowerCase();
    if (this.#hostPorts.has(host)) return true;
    const name = host.replace(/:\d+$/, '');
    return this.#names.has(name) || this.#names.has(name.replace(/^\[(.*)\]$/, '$1'));
  }
}
