// Where proxies get their identity, on the mesh port: the trust bundle (public: a joining proxy
// checks it against the CA hash its token carries), the join (a token and a CSR buy a certificate
// for the one identity the token names; joining as a member of a WorkloadGroup also registers the
// workload's WorkloadEntry, made from the group), and renewal (the proxy's current certificate buys the next
// one for the same identity). The private key never leaves the proxy: only CSRs come here.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  AlderError,
  ErrorCode,
  type Resource,
  type WorkloadEntrySpec,
  type WorkloadGroupSpec,
} from '../../config/index.ts';
import { type CertificateAuthority, parseSpiffeId } from '../../identity/index.ts';
import { readBody, send } from '../api/http-io.ts';
import type { JoinTokens } from '../identity/index.ts';
import type { Store } from '../store/index.ts';
import type { AutoRegistry } from './auto-registry.ts';

export const TRUST_BUNDLE_PATH = '/alder/v1/trust-bundle';
export const JOIN_PATH = '/alder/v1/join';
export const RENEW_PATH = '/alder/v1/certificates';

const MAX_JOIN_BYTES = 64 * 1024;
const NAME = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/;

export interface JoinContext {
  store: Store;
  ca: CertificateAuthority;
  tokens: JoinTokens;
  registry: AutoRegistry;
  /** The SPIFFE ID of the request's verified client certificate, if any. */
  peerIdentity(socket: TLSSocket): string | undefined;
}

/** What a joining proxy sends: `workload` or `workloadGroup`. */
export interface JoinRequest {
  token: string;
  /** `namespace/name` of the WorkloadEntry this proxy serves. */
  workload?: string;
  /** `namespace/name` of the WorkloadGroup whose member it is: its WorkloadEntry is made from it. */
  workloadGroup?: string;
  /** With workloadGroup: the workload's IP address (default: the one the request comes from). */
  address?: string;
  /** With workloadGroup: the workload's own labels, over the group's. */
  labels?: Record<string, string>;
  /** A PKCS#10 CSR for no name or for the identity the token grants. */
  csr: string;
}

export interface CertificateAnswer {
  workload: { namespace: string; name: string };
  /** For a member of a WorkloadGroup: how its entry was made, which its proxy says again on reconnect. */
  autoRegister?: { group: string; address: string; labels?: Record<string, string> };
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
      ? body.workloadGroup === undefined
        ? await join(body, ctx)
        : await joinGroup(body, req.socket.remoteAddress, ctx)
      : await renew(body, ctx.peerIdentity(req.socket as TLSSocket), ctx);
  send(req, res, 200, answer);
  return true;
}

async function join(body: Record<string, unknown>, ctx: JoinContext): Promise<CertificateAnswer> {
  const token = stringField(body, 'token');
  const csr = stringField(body, 'csr');
  const ref = NAME.exec(stringField(body, 'workload'));
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

/**
 * Joins as a member of a WorkloadGroup (Istio's auto-registration): the token must grant the group's
 * service account; the workload's entry is made from the group's template with its address and labels.
 */
async function joinGroup(
  body: Record<string, unknown>,
  peerAddress: string | undefined,
  ctx: JoinContext,
): Promise<CertificateAnswer> {
  const token = stringField(body, 'token');
  const csr = stringField(body, 'csr');
  if (body.workload !== undefined) {
    throw new AlderError(ErrorCode.RequestInvalid, 'give workload or workloadGroup, not both');
  }
  const ref = NAME.exec(stringField(body, 'workloadGroup'));
  if (ref === null) {
    throw new AlderError(ErrorCode.RequestInvalid, 'workloadGroup must be NAMESPACE/NAME of a WorkloadGroup');
  }
  const [, namespace, groupName] = ref as unknown as [string, string, string];
  const address = body.address === undefined ? unmapped(peerAddress ?? '') : stringField(body, 'address');
  if (isIP(address) === 0) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `address must be an IP address, got ${JSON.stringify(address)}`,
    );
  }
  const labels = labelsField(body.labels);
  const group = (await ctx.store.get({ kind: 'WorkloadGroup', namespace, name: groupName })) as
    | Resource<WorkloadGroupSpec>
    | undefined;
  if (group === undefined) {
    throw new AlderError(ErrorCode.NotFound, `no WorkloadGroup ${namespace}/${groupName} to join`, {
      hint: 'apply the WorkloadGroup first (alder get workloadgroups -A lists them)',
    });
  }
  const identity = { namespace, serviceAccount: group.spec?.template.serviceAccount || 'default' };
  // Checked before the token is spent: a join refused for its labels or address keeps the use.
  const entry = await ctx.registry.prepare(group, { address, labels });
  ctx.tokens.consume(token, identity);
  const issued = await ctx.ca.issueWorkload(csr, identity);
  await ctx.registry.store(entry, group);
  const out = answer(ctx, { namespace, name: entry.metadata.name }, issued);
  out.autoRegister = { group: groupName, address, ...(Object.keys(labels).length > 0 ? { labels } : {}) };
  return out;
}

/** An IPv4 peer as Node shows it on a dual-stack socket (`::ffff:10.0.0.1`) is 10.0.0.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function labelsField(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(ErrorCode.RequestInvalid, 'labels must be an object of strings');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new AlderError(ErrorCode.RequestInvalid, `label ${k} must be a string`);
    out[k] = v;
  }
  return out;
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
