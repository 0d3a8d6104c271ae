// Where proxies get their identity, on the mesh port: the trust bundle (public: a joining proxy
// checks it against the CA hash its token carries), the join (a token and a CSR buy a certificate
// for the one identity the token names; joining as a member of a WorkloadGroup also registers the
// workload's WorkloadEntry, made from the group), and renewal (the proxy's current certificate buys the next
// one for the same identity). The private key never leaves the proxy: only CSRs come here.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type RunRegistration,
  runConflicts,
  runGroup,
  runGroupName,
  runService,
  type WorkloadJoin,
} from '../../compile/index.ts';
import {
  AlderError,
  checkObject,
  ErrorCode,
  findKindByName,
  type KindInfo,
  type Resource,
  type ServiceSpec,
  type WorkloadEntrySpec,
  type WorkloadGroupSpec,
} from '../../config/index.ts';
import { type CertificateAuthority, parseSpiffeId } from '../../identity/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { AutoRegistration } from '../../wire/index.ts';
import { readBody, send } from '../api/http-io.ts';
import type { JoinTokens } from '../identity/index.ts';
import type { Store } from '../store/index.ts';
import type { AutoRegistry } from './auto-registry.ts';
import { memberOf, parseJson, runField, stringField } from './join-fields.ts';

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
  log?: Logger;
  /** The SPIFFE ID of the request's verified client certificate, if any. */
  peerIdentity(socket: TLSSocket): string | undefined;
}

/** What a joining proxy sends: `workload`, `workloadGroup`, or `run` (`alder run`). */
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
  /** With workloadGroup or run: where the app listens, when it has an address of its own. */
  appAddress?: string;
  /**
   * `alder run`: the service the workload serves. The control plane makes the Service when the
   * namespace has none of that name, and the WorkloadGroup SERVICE[-VERSION]; the workload joins it.
   */
  run?: RunRegistration;
  /** A PKCS#10 CSR for no name or for the identity the token grants. */
  csr: string;
}

export interface CertificateAnswer {
  workload: { namespace: string; name: string };
  /** For a member of a WorkloadGroup: how its entry was made, which its proxy says again on reconnect. */
  autoRegister?: AutoRegistration;
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
    path !== JOIN_PATH
      ? await renew(body, ctx.peerIdentity(req.socket as TLSSocket), ctx)
      : body.run !== undefined
        ? await joinRun(body, req.socket.remoteAddress, ctx)
        : body.workloadGroup === undefined
          ? await join(body, ctx)
          : await joinGroup(body, req.socket.remoteAddress, ctx);
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
  if (body.workload !== undefined) {
    throw new AlderError(ErrorCode.RequestInvalid, 'give workload or workloadGroup, not both');
  }
  const ref = NAME.exec(stringField(body, 'workloadGroup'));
  if (ref === null) {
    throw new AlderError(ErrorCode.RequestInvalid, 'workloadGroup must be NAMESPACE/NAME of a WorkloadGroup');
  }
  const [, namespace, groupName] = ref as unknown as [string, string, string];
  const member = memberOf(body, peerAddress);
  const group = (await ctx.store.get({ kind: 'WorkloadGroup', namespace, name: groupName })) as
    | Resource<WorkloadGroupSpec>
    | undefined;
  if (group === undefined) {
    throw new AlderError(ErrorCode.NotFound, `no WorkloadGroup ${namespace}/${groupName} to join`, {
      hint: 'apply the WorkloadGroup first (alder get workloadgroups -A lists them)',
    });
  }
  return joinMember(group, member, body, ctx);
}

/**
 * `alder run`: checks the token, makes the Service (when the namespace has none of that name) and
 * the run's WorkloadGroup (when missing), then joins the group. What exists must fit the run: its
 * ports, labels and service account; nothing is written when it does not.
 */
async function joinRun(
  body: Record<string, unknown>,
  peerAddress: string | undefined,
  ctx: JoinContext,
): Promise<CertificateAnswer> {
  if (body.workload !== undefined || body.workloadGroup !== undefined) {
    throw new AlderError(ErrorCode.RequestInvalid, 'give run alone, without workload or workloadGroup');
  }
  const run = runField(body.run);
  const member = memberOf(body, peerAddress);
  const token = stringField(body, 'token');
  ctx.tokens.check(token, { namespace: run.namespace, serviceAccount: run.serviceAccount });
  const [service, existing] = (await Promise.all([
    ctx.store.get({ kind: 'Service', namespace: run.namespace, name: run.service }),
    ctx.store.get({ kind: 'WorkloadGroup', namespace: run.namespace, name: runGroupName(run) }),
  ])) as [Resource<ServiceSpec> | undefined, Resource<WorkloadGroupSpec> | undefined];
  const conflicts = runConflicts(run, service, existing);
  if (conflicts.length > 0) {
    throw new AlderError(ErrorCode.StoreAlreadyExists, conflicts.join('; '), {
      hint: 'run with the ports, labels and service account of what exists, or change it with alder apply',
    });
  }
  const group = existing ?? runGroup(run);
  // A program that serves no port (a batch job) needs an identity, not a Service.
  const isServiceMissing = service === undefined && run.ports.length > 0;
  const missing: Resource[] = [...(isServiceMissing ? [runService(run)] : []), ...(existing ? [] : [group])];
  for (const object of missing) checkMade(object);
  // The member's entry is checked before anything is written.
  await ctx.registry.prepare(group, member);
  if (missing.length > 0) {
    const written = await ctx.store.write(missing.map((object) => ({ op: 'apply' as const, object })));
    ctx.log?.info('made for alder run', { objects: written.results.map((r) => r.ref) });
  }
  const stored = (await ctx.store.get({
    kind: 'WorkloadGroup',
    namespace: run.namespace,
    name: group.metadata.name,
  })) as Resource<WorkloadGroupSpec> | undefined;
  return joinMember(stored ?? group, member, body, ctx);
}

/** Joins `group` as `member`: the entry is checked, then the token spent, the certificate issued and the entry stored. */
async function joinMember(
  group: Resource<WorkloadGroupSpec>,
  member: WorkloadJoin & { address: string; labels: Record<string, string> },
  body: Record<string, unknown>,
  ctx: JoinContext,
): Promise<CertificateAnswer> {
  const token = stringField(body, 'token');
  const csr = stringField(body, 'csr');
  const namespace = group.metadata.namespace ?? 'default';
  const identity = { namespace, serviceAccount: group.spec?.template.serviceAccount || 'default' };
  // Checked before the token is spent: a join refused for its labels or address keeps the use.
  const entry = await ctx.registry.prepare(group, member);
  ctx.tokens.consume(token, identity);
  const issued = await ctx.ca.issueWorkload(csr, identity);
  await ctx.registry.store(entry, group);
  const out = answer(ctx, { namespace, name: entry.metadata.name }, issued);
  out.autoRegister = {
    group: group.metadata.name,
    address: member.address,
    ...(Object.keys(member.labels).length > 0 ? { labels: member.labels } : {}),
    ...(member.appAddress === undefined ? {} : { appAddress: member.appAddress }),
  };
  return out;
}

/** An object `alder run` makes is checked as `alder apply` would check it. */
function checkMade(object: Resource): void {
  const kind = findKindByName(object.kind) as KindInfo;
  const errors = checkObject(object as unknown as Record<string, unknown>, kind).issues.filter(
    (i) => i.severity === 'error',
  );
  if (errors.length > 0) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `the ${object.kind} for this run is not valid: ${errors
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    );
  }
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
