// Where proxies get their identity, on the mesh port: the trust bundle (public: a joining proxy
// checks it against the CA hash its token carries), the join (a token and a CSR buy a certificate
// for the one identity the token names), and renewal (the proxy's current certificate buys the next
// one for the same identity). The private key never leaves the proxy: only CSRs come here.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AlderError, ErrorCode, type Resource, type WorkloadEntrySpec } from '../../config/index.ts';
import { type CertificateAuthority, parseSpiffeId } from '../../identity/index.ts';
import { readBody, send } from '../api/http-io.ts';
import type { JoinTokens } from '../identity/index.ts';
import type { Store } from '../store/index.ts';

export const TRUST_BUNDLE_PATH = '/alder/v1/trust-bundle';
export const JOIN_PATH = '/alder/v1/join';
export const RENEW_PATH = '/alder/v1/certificates';

const MAX_JOIN_BYTES = 64 * 1024;

export interface JoinContext {
  store: Store;
  ca: CertificateAuthority;
  tokens: JoinTokens;
  /** The SPIFFE ID of the request's verified client certificate, if any. */
  peerIdentity(socket: TLSSocket): string | undefined;
}

/** What a joining proxy sends. */
export interface JoinRequest {
  token: string;
  /** `namespace/name` of the WorkloadEntry this proxy serves. */
  workload: string;
  /** A PKCS#10 CSR for no name or for the identity the token grants. */
  csr: string;
}

export interface CertificateAnswer {
  workload: { namespace: string; name: string };
  spiffeId: string;
  /** The leaf, then intermediates. */
  certificateChain: string;
  trustBundle: string;
  notAfter: string;
}

/** True when it answered the request (one of its paths). */
export async function handleJoinApi(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: JoinContext,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'https://control-plane').pathname;
  if (path === TRUST_BUNDLE_PATH) {
    send(req, res, 200, { trustBundle: ctx.ca.trustBundle(), fingerprint: ctx.ca.fingerprint() });
    return true;
  }
  if (path !== JOIN_PATH && path !== RENEW_PATH) return false;
  if (req.method !== 'POST') throw new AlderError(ErrorCode.MethodNotAllowed, `use POST on ${path}`);
  const body = parseJson(await readBody(req, MAX_JOIN_BYTES));
  const answer =
    path === JOIN_PATH
      ? await join(body, ctx)
      : await renew(body, ctx.peerIdentity(req.socket as TLSSocket), ctx);
  send(req, res, 200, answer);
  return true;
}

async function join(body: Record<string, unknown>, ctx: JoinContext): Promise<CertificateAnswer> {
  const token = stringField(body, 'token');
  const csr = stringField(body, 'csr');
  const ref = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(stringField(body, 'workload'));
  if (ref === null) {
    throw new AlderError(ErrorCode.RequestInvalid, 'workload must be NAMESPACE/NAME of a WorkloadEntry');
  }
  const [, namespace, name] = ref as unknown as [string, string, string];
  const entry = (await ctx.store.get({ kind: 'WorkloadEntry', namespace, name })) as
    | Resource<WorkloadEntrySpec>
    | undefined;
  if (entry === undefined) {
    throw new AlderError(ErrorCode.NotFound, `no WorkloadEntry ${namespace}/${name} to join as`, {
      hint: 'apply a WorkloadEntry for this workload first, or join with the name of one',
    });
  }
  const identity = { namespace, serviceAccount: entry.spec?.serviceAccount || 'default' };
  ctx.tokens.consume(token, identity);
  return answer(ctx, { namespace, name }, await ctx.ca.issueWorkload(csr, identity));
}

async function renew(
  body: Record<string, unknown>,
  peer: string | undefined,
  ctx: JoinContext,
): Promise<CertificateAnswer> {
  if (peer === undefined) {
    throw new AlderError(
      ErrorCode.Forbidden,
      'renewal needs the current certificate as a client certificate',
      {
        hint: 'a proxy whose certificate expired joins again with a token',
      },
    );
  }
  const id = parseSpiffeId(peer);
  if (id === undefined) throw new AlderError(ErrorCode.Forbidden, `${peer} is not a workload identity`);
  const identity = { namespace: id.namespace, serviceAccount: id.serviceAccount };
  const workload = stringField(body, 'workload');
  const [namespace, name] = workload.split('/') as [string, string];
  if (namespace !== identity.namespace || name === undefined) {
    throw new AlderError(ErrorCode.Forbidden, `${peer} cannot renew for ${workload}`);
  }
  return answer(ctx, { namespace, name }, await ctx.ca.issueWorkload(stringField(body, 'csr'), identity));
}

function answer(
  ctx: JoinContext,
  workload: { namespace: string; name: string },
  issued: { chainPem: string; notAfter: Date; spiffeId: string },
): CertificateAnswer {
  return {
    workload,
    spiffeId: issued.spiffeId,
    certificateChain: issued.chainPem,
    trustBundle: ctx.ca.trustBundle(),
    notAfter: issued.notAfter.toISOString(),
  };
}

function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AlderError(ErrorCode.RequestInvalid, 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(ErrorCode.RequestInvalid, 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '')
    throw new AlderError(ErrorCode.RequestInvalid, `${field} is required`);
  return v;
}
