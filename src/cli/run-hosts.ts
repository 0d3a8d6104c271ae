// Where the proxy of a workload under `alder run` runs: in the `alder run` process itself (a
// sidecar), or in the host's node proxy, reached over its local socket. Both hand `alder run` the
// same things: the workload's name, the app's forward proxy and upstream ports, a drain and a stop.

import { join, resolve } from 'node:path';
import type { NodeClient, Upstream } from '../agent/index.ts';
import { AlderError, ErrorCode } from '../config/core.ts';
import type { Logger } from '../telemetry/index.ts';
import type { RunRegistration } from '../wire/index.ts';

export const OUTBOUND_PORT = 15001;
export const ADMIN_PORT = 15000;

/** The forward proxy as the app's HTTP_PROXY names it. */
export interface ForwardProxy {
  address: string;
  port: number;
  user?: string;
  password?: string;
}

export interface ProxyHost {
  workload: { namespace: string; name: string };
  outboundProxy: ForwardProxy;
  upstreams: Upstream[];
  /** Out of every caller's rotation, then inbound closed once its requests finished; undefined: no answer. */
  drain(graceMs: number): Promise<{ synced: number; pending: string[]; inboundMs: number } | undefined>;
  stop(): Promise<void>;
  /** What the `app started` line says about the proxy. */
  describe: Record<string, unknown>;
}

export interface HostPlan {
  controlPlane: { host: string; port: number };
  token: string | undefined;
  /** Who joins: the run's service, and the workload's address, labels and app address. */
  member: { run: RunRegistration; address: string; labels?: Record<string, string>; appAddress?: string };
  stateDir: string | undefined;
  admin: { host: string; port: number } | undefined;
  readyTimeoutMs: number;
}

/** The workload's proxy in this process: joined, serving its first config, with a secret for HTTP_PROXY. */
export async function sidecarHost(
  plan: HostPlan,
  log: Logger,
  stopped: Promise<unknown>,
): Promise<ProxyHost | 'stopped'> {
  const { Sidecar, isLoopback, proxySecret, upstreamsOf } = await import('../agent/index.ts');
  const { run, address } = plan.member;
  const local = isLoopback(address) ? address : '127.0.0.1';
  const stateDir = resolve(
    plan.stateDir ?? join('.alder', 'run', `${run.namespace}-${run.service}-${address.replaceAll(':', '-')}`),
  );
  const secret = proxySecret();
  const sidecar = await Sidecar.start({
    controlPlane: plan.controlPlane,
    as: plan.member,
    token: plan.token,
    stateDir,
    admin: plan.admin ?? { host: local, port: ADMIN_PORT },
    outboundProxy: { address: local, port: OUTBOUND_PORT },
    outboundCredential: secret.authorization,
    log,
  });
  const ready = await Promise.race([
    sidecar.serving.then(() => 'ready' as const),
    stopped.then(() => 'stopped' as const),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), plan.readyTimeoutMs).unref()),
  ]);
  if (ready !== 'ready') {
    await sidecar.stop(0);
    if (ready === 'stopped') return 'stopped';
    throw new AlderError(
      ErrorCode.ServerUnreachable,
      `the proxy got no config from the control plane at ${plan.controlPlane.host}:${plan.controlPlane.port} within ${plan.readyTimeoutMs / 1000}s: the app was not started`,
      { hint: 'check that the control plane runs and that this host reaches its mesh port' },
    );
  }
  return {
    workload: sidecar.workload,
    outboundProxy: { address: local, port: OUTBOUND_PORT, user: secret.user, password: secret.password },
    upstreams: upstreamsOf(sidecar.proxy.runtime?.snapshot),
    describe: { proxy: 'sidecar', admin: sidecar.adminUrl, outboundProxy: `${local}:${OUTBOUND_PORT}` },
    drain: async (graceMs) => {
      const { drained, inboundMs } = await sidecar.drain(graceMs);
      return drained === undefined
        ? undefined
        : { synced: drained.synced, pending: drained.pending, inboundMs };
    },
    stop: () => sidecar.stop(0),
  };
}

/** The workload handed to the host's node proxy over its local socket. */
export async function nodeHost(
  node: NodeClient,
  plan: HostPlan,
  log: Logger,
  stopped: Promise<unknown>,
): Promise<ProxyHost | 'stopped'> {
  const join = { ...plan.member, ...(plan.token === undefined ? {} : { token: plan.token }) };
  const answer = await Promise.race([
    node.ask({ join }, plan.readyTimeoutMs + 30_000),
    stopped.then(() => 'stopped' as const),
  ]);
  if (answer === 'stopped') {
    node.close();
    return 'stopped';
  }
  if ('error' in answer) {
    node.close();
    throw new AlderError(answer.error.code as ErrorCode, answer.error.message, {
      ...(answer.error.hint === undefined ? {} : { hint: answer.error.hint }),
    });
  }
  if (!('ready' in answer)) {
    node.close();
    throw new AlderError(ErrorCode.Internal, 'the node proxy answered a join with something else');
  }
  const ready = answer.ready;
  log.info('joined through the node proxy', {
    workload: `${ready.workload.namespace}/${ready.workload.name}`,
    identity: ready.spiffeId,
  });
  return {
    workload: ready.workload,
    outboundProxy: forwardProxyOf(ready.httpProxy),
    upstreams: ready.upstreams,
    describe: { proxy: 'node' },
    drain: async (graceMs) => {
      const m = await node.ask({ drain: { graceMs } }, graceMs + 15_000);
      return 'drained' in m ? m.drained : undefined;
    },
    stop: async () => {
      await node.ask({ leave: {} }, 15_000);
      node.close();
    },
  };
}

/** `http://user:password@host:port`, as the node proxy sends it, in parts. */
function forwardProxyOf(url: string): ForwardProxy {
  const u = new URL(url);
  return {
    address: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port),
    ...(u.username === ''
      ? {}
      : { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }),
  };
}
