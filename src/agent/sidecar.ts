// One workload's proxy fed by the control plane, as `alder proxy --control-plane` and `alder run`
// start it: the certificate (saved, or joined for with a token, or files the operator owns), the
// proxy with its admin port, and the agent that speaks for it on the stream (its own, or the node
// proxy's shared one) and keeps the certificate fresh.

import { readFileSync } from 'node:fs';
import { AlderError, ErrorCode } from '../config/core.ts';
import { dispatch, WorkloadProxy } from '../proxy/index.ts';
import type { Logger } from '../telemetry/index.ts';
import type { Drained, ProxyTls, WorkloadRef } from '../wire/index.ts';
import type { SharedStream } from './agent-stream.ts';
import { type Credentials, fileCredentials, ProxyAgent } from './proxy-agent.ts';
import { isFree } from './run-addresses.ts';
import { type ControlPlaneAddress, type JoinAs, WorkloadCertificate } from './workload-certificate.ts';

export interface SidecarOptions {
  controlPlane: ControlPlaneAddress;
  as: JoinAs;
  /** A join token, used when no valid certificate is saved in `stateDir`. */
  token?: string | undefined;
  /** Certificate files the operator owns, instead of joining. */
  tls?: ProxyTls | undefined;
  stateDir: string;
  /** The proxy's admin port; none for a workload of a node proxy (the node's admin port serves it). */
  admin?: { host: string; port: number } | undefined;
  outboundProxy: { address: string; port: number } | null;
  /** The Proxy-Authorization requests to the forward proxy must carry (none: any local process may send). */
  outboundCredential?: string;
  /** The node proxy's stream the workload speaks on; none: a stream of its own. */
  sharedStream?: SharedStream | undefined;
  log: Logger;
}

export class Sidecar {
  readonly proxy: WorkloadProxy;
  readonly agent: ProxyAgent;
  readonly workload: WorkloadRef;
  readonly certificate: WorkloadCertificate | undefined;
  readonly adminUrl: string;
  /** The logger, with the workload's name once it is known. */
  readonly log: Logger;

  private constructor(parts: {
    proxy: WorkloadProxy;
    agent: ProxyAgent;
    workload: WorkloadRef;
    certificate: WorkloadCertificate | undefined;
    adminUrl: string;
    log: Logger;
  }) {
    this.proxy = parts.proxy;
    this.agent = parts.agent;
    this.workload = parts.workload;
    this.certificate = parts.certificate;
    this.adminUrl = parts.adminUrl;
    this.log = parts.log;
  }

  /** Gets the identity (joining if it must), starts the admin port and the agent. */
  static async start(o: SidecarOptions): Promise<Sidecar> {
    let log = o.log;
    // A port in use fails the start before the workload is registered anywhere.
    if (o.admin !== undefined && o.admin.port !== 0 && !(await isFree(o.admin.host, o.admin.port))) {
      throw new AlderError(ErrorCode.Usage, `the admin port ${o.admin.host}:${o.admin.port} is in use`, {
        hint: 'another proxy holds it: give another --admin HOST:PORT, or another --address',
      });
    }
    let credentials: Credentials;
    let certificate: WorkloadCertificate | undefined;
    if (o.tls !== undefined) {
      credentials = fileCredentials(o.tls, (path) => readFileSync(path, 'utf8'));
    } else {
      certificate = WorkloadCertificate.load(o.stateDir, o.as);
      if (certificate !== undefined && o.token !== undefined && !(await certificate.trustsTokenCa(o.token))) {
        log.info('the saved certificate is from another CA than the token names: joining again', {
          stateDir: o.stateDir,
        });
        certificate = undefined;
      }
      if (certificate === undefined) {
        if (o.token === undefined) {
          throw new AlderError(ErrorCode.Usage, `no certificate for this workload in ${o.stateDir}`, {
            hint: 'join with --token TOKEN (from `alder token create`), or give --cert, --key and --ca',
          });
        }
        certificate = await WorkloadCertificate.join(o.stateDir, o.controlPlane, o.token, o.as);
        log.info('joined the mesh', {
          identity: certificate.spiffeId(),
          workload: `${certificate.workload.namespace}/${certificate.workload.name}`,
          expires: certificate.expiry(),
        });
      }
      credentials = certificate;
      if (!('workload' in o.as))
        log = log.with({ workload: `${certificate.workload.namespace}/${certificate.workload.name}` });
    }
    const workload =
      certificate?.workload ?? ('workload' in o.as ? o.as.workload : { namespace: '', name: '' });
    const proxy = new WorkloadProxy({
      log,
      dispatch,
      ...(o.outboundCredential === undefined ? {} : { outboundCredential: o.outboundCredential }),
    });
    const adminUrl = o.admin === undefined ? '' : await proxy.startAdmin(o.admin.host, o.admin.port);
    const agent = new ProxyAgent({
      controlPlane: o.controlPlane,
      workload,
      outboundProxy: o.outboundProxy,
      stateDir: o.stateDir,
      credentials,
      proxy,
      log,
      ...(certificate?.autoRegister === undefined ? {} : { autoRegister: certificate.autoRegister }),
      ...(o.sharedStream === undefined ? {} : { sharedStream: o.sharedStream }),
    });
    try {
      await agent.start();
    } catch (err) {
      await proxy.close(0);
      throw err;
    }
    certificate?.keepFresh(o.controlPlane, log, () => agent.credentialsChanged());
    return new Sidecar({ proxy, agent, workload, certificate, adminUrl, log });
  }

  /** Resolves when a snapshot is in force (from disk or from the control plane). */
  get serving(): Promise<void> {
    return this.agent.serving;
  }

  /**
   * The first half of a clean shutdown: out of every caller's rotation (`drained`: the control
   * plane's word that every caller has it; undefined when it did not answer within 10 s or the
   * grace), then no new inbound connections, those open finished within `graceMs`. The outbound
   * side and the stream stay up for the app's last calls.
   */
  async drain(graceMs: number): Promise<{ drained: Drained | undefined; inboundMs: number }> {
    const drained = await this.agent.drain(Math.min(graceMs, 10_000));
    const started = performance.now();
    await this.proxy.drainInbound(graceMs);
    return { drained, inboundMs: Math.round(performance.now() - started) };
  }

  /** Says goodbye (the workload leaves rotation at once) and closes every listener. */
  async stop(graceMs?: number): Promise<void> {
    this.certificate?.stop();
    await this.agent.stop();
    await this.proxy.close(graceMs);
  }
}
