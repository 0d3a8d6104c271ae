// The proxy's agent (istio-agent's role): speaks for its workload on the stream to the control plane
// (its own, or a channel of its node proxy's shared one), assembles each push
// into a snapshot the proxy applies through the wire codec, answers ACK or NACK with the proxy's
// reason, keeps the last good resources on disk and serves them at start when the control plane is
// away. It runs the readiness probe the control plane sends (a WorkloadGroup's) and reports its verdicts.

import { createHash, X509Certificate } from 'node:crypto';
import type { Logger } from '../telemetry/index.ts';
import { VERSION } from '../version.ts';
import {
  type AutoRegistration,
  applyDelta,
  assembleSnapshot,
  type Drained,
  emptyResourceSet,
  encodeMessage,
  knownVersions,
  type ProxyTls,
  type Push,
  type ResourceSet,
  type Snapshot,
  WIRE_VERSION,
  type WorkloadRef,
} from '../wire/index.ts';
import type { AgentStream, SharedStream, StreamHandlers } from './agent-stream.ts';
import { type RunningProbe, startProbe } from './probes.ts';
import { loadResources, saveResources } from './resource-cache.ts';
import { StreamClient } from './stream-client.ts';

/** The part of the proxy the agent drives. */
export interface AgentProxy {
  /** Takes a snapshot built from the held resources; it shares their parts and must not change them. */
  apply(snapshot: Snapshot): Promise<{ accepted: boolean; reason?: string; version: string | undefined }>;
}

/** The workload's certificate files (kept fresh by whoever owns them) and their PEM now. */
export interface Credentials {
  files: ProxyTls;
  /** Changes when the certificate is renewed, so the proxy takes the new one. */
  version(): string;
  pem(): { cert: string; key: string; ca: string };
  /** ISO 8601 expiry of the current certificate. */
  expiry(): string | undefined;
  /** Takes the trust bundle the control plane pushed (absent: the bundle is a file the operator owns). */
  useTrustBundle?(pem: string): void;
}

export interface AgentOptions {
  controlPlane: { host: string; port: number };
  workload: WorkloadRef;
  outboundProxy: { address: string; port: number } | null;
  stateDir: string;
  credentials: Credentials;
  proxy: AgentProxy;
  log: Logger;
  /** For a member of a WorkloadGroup: said in every hello, so an expired entry is made again. */
  autoRegister?: AutoRegistration;
  /** The node proxy's stream to speak on; none: the agent holds its own (StreamClient). */
  sharedStream?: SharedStream;
}

export class ProxyAgent {
  readonly #o: AgentOptions;
  #held: ResourceSet = emptyResourceSet();
  #revision = '0';
  #client: AgentStream | undefined;
  #firstApplied: (() => void) | undefined;
  /** Resolves when a snapshot is in force (from disk or from the control plane). */
  readonly serving: Promise<void>;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.serving = new Promise((resolve) => {
      this.#firstApplied = resolve;
    });
  }

  /** Serves the saved resources if there are any, then connects. */
  async start(): Promise<void> {
    const saved = loadResources(this.#o.stateDir, this.#o.workload);
    if (saved !== undefined) {
      const refused = await this.#applySet(saved.set);
      if (refused === undefined) {
        this.#held = saved.set;
        this.#revision = saved.revision;
        this.#followProbe();
        this.#o.log.info('serving the config saved on disk until the control plane answers', {
          revision: saved.revision,
        });
        this.#firstApplied?.();
      } else {
        this.#o.log.warn('the config saved on disk is refused; waiting for the control plane', {
          reason: refused,
        });
      }
    }
    const handlers: StreamHandlers = {
      hello: () => {
        const expiry = this.#o.credentials.expiry();
        return {
          workload: this.#o.workload,
          known: knownVersions(this.#held),
          wireVersion: WIRE_VERSION,
          agent: `alder/${VERSION}`,
          outboundProxy: this.#o.outboundProxy,
          ...(expiry === undefined ? {} : { certificateExpiry: expiry }),
          ...(this.#o.autoRegister === undefined ? {} : { autoRegister: this.#o.autoRegister }),
        };
      },
      onPush: (push) => this.#onPush(push),
      onDrained: (d) => {
        this.#onDrained?.(d);
      },
      onError: (e) => this.#o.log.error('the control plane cannot configure this proxy', { ...e }),
      onState: (state, detail) => {
        this.#isConnected = state === 'connected';
        if (state !== 'connected') this.#onDrained?.(undefined);
        if (state === 'connected') {
          this.#o.log.info('connected to the control plane', { at: detail });
          const h = this.#health;
          if (h !== undefined)
            this.#client?.send(encodeMessage({ health: { workload: this.#o.workload, ...h } }));
          if (this.#isDraining) this.#client?.send(encodeMessage({ drain: { workload: this.#o.workload } }));
        } else
          this.#o.log.warn('lost the control plane; serving the last config and reconnecting', {
            reason: detail,
          });
      },
    };
    this.#client =
      this.#o.sharedStream === undefined
        ? new StreamClient({
            host: this.#o.controlPlane.host,
            port: this.#o.controlPlane.port,
            credentials: () => this.#o.credentials.pem(),
            ...handlers,
          })
        : this.#o.sharedStream.channel({
            workload: this.#o.workload,
            credentials: this.#o.credentials,
            ...handlers,
          });
    this.#client.start();
  }

  /** Says goodbye to the control plane (the workload leaves rotation at once) and disconnects. */
  async stop(): Promise<void> {
    this.#probe?.stop();
    this.#probe = undefined;
    await this.#client?.stop(this.#o.workload);
  }

  #isDraining = false;
  #onDrained: ((d: Drained | undefined) => void) | undefined;
  #isConnected = false;

  /**
   * Takes the workload out of every caller's rotation while this proxy stays connected (its outbound
   * keeps working): resolves when the control plane says every other proxy has acknowledged that,
   * or with undefined after `timeoutMs` (the control plane away, or slow proxies).
   */
  drain(timeoutMs: number): Promise<Drained | undefined> {
    this.#isDraining = true;
    this.#probe?.stop();
    this.#probe = undefined;
    // No control plane to tell (it is away, or stopped first): no caller hears of the drain anyway.
    if (!this.#isConnected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onDrained = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.#onDrained = (d) => {
        clearTimeout(timer);
        this.#onDrained = undefined;
        resolve(d);
      };
      this.#client?.send(encodeMessage({ drain: { workload: this.#o.workload } }));
    });
  }

  /** Reports the app's health (from its probe); the control plane takes it out of rotation when unhealthy. */
  reportHealth(healthy: boolean, reason: string): void {
    this.#health = { healthy, reason };
    this.#client?.send(encodeMessage({ health: { workload: this.#o.workload, healthy, reason } }));
  }

  #health: { healthy: boolean; reason: string } | undefined;

  /**
   * The certificate changed: the proxy takes it with the config it holds. The stream needs nothing
   * here: it reads the certificate at each connect and, on a node's shared stream, proves each hello
   * with the certificate of that moment; the identity a session speaks as does not change.
   */
  async credentialsChanged(): Promise<void> {
    if (this.#held.proxy.size === 0) return;
    const refused = await this.#applySet(this.#held);
    if (refused !== undefined) this.#o.log.error('cannot use the renewed certificate', { reason: refused });
  }

  async #onPush(push: Push): Promise<string | undefined> {
    const next = applyDelta(this.#held, push.resources);
    const before = this.#held.bundle.get('trust-bundle');
    const bundle = next.bundle.get('trust-bundle');
    const isNewBundle = bundle !== undefined && bundle.version !== before?.version;
    if (isNewBundle) this.#useBundle(bundle.body.pem);
    const refused = await this.#applySet(next);
    if (refused !== undefined) {
      if (isNewBundle && before !== undefined) this.#useBundle(before.body.pem);
      return refused;
    }
    this.#held = next;
    this.#revision = push.revision;
    this.#followProbe();
    try {
      saveResources(this.#o.stateDir, this.#o.workload, push.revision, next);
    } catch (err) {
      this.#o.log.warn('cannot save the config to disk', {
        dir: this.#o.stateDir,
        error: (err as Error).message,
      });
    }
    this.#firstApplied?.();
    return undefined;
  }

  #probe: RunningProbe | undefined;
  #probeText = '';

  /** Runs the probe the `proxy` resource names (restarted when it changes); none: the app counts as ready. */
  #followProbe(): void {
    if (this.#isDraining) return;
    const own = this.#held.proxy.get('proxy')?.body;
    const plan = own?.probe;
    const text = plan === undefined ? '' : JSON.stringify(plan);
    if (text === this.#probeText) return;
    this.#probeText = text;
    this.#probe?.stop();
    this.#probe = undefined;
    if (plan === undefined) {
      if (this.#health?.healthy === false) this.reportHealth(true, 'no readiness probe');
      return;
    }
    this.#o.log.info('running the readiness probe', { probe: plan });
    this.#probe = startProbe(plan, {
      defaultHost: own?.proxy.appAddress ?? '127.0.0.1',
      onChange: (state) => {
        this.#o.log[state.healthy ? 'info' : 'warn']('readiness probe', {
          healthy: state.healthy,
          reason: state.reason,
        });
        this.reportHealth(state.healthy, state.reason);
      },
    });
  }

  #useBundle(pem: string): void {
    if (this.#o.credentials.useTrustBundle === undefined) {
      if (!this.#bundleIgnored)
        this.#o.log.info('the trust bundle is the --ca file given; the pushed one is not used');
      this.#bundleIgnored = true;
      return;
    }
    this.#o.credentials.useTrustBundle(pem);
  }

  #bundleIgnored = false;

  /** Undefined when the proxy took the snapshot, else its reason. */
  async #applySet(set: ResourceSet): Promise<string | undefined> {
    let snapshot: Snapshot;
    try {
      snapshot = assembleSnapshot(set, this.#o.credentials.files, this.#o.credentials.version());
    } catch (err) {
      return (err as Error).message;
    }
    const outcome = await this.#o.proxy.apply(snapshot);
    return outcome.accepted ? undefined : (outcome.reason ?? 'refused');
  }

  get revision(): string {
    return this.#revision;
  }
}

/** Certificate files given on the command line (or written by the join), read as they are now. */
export function fileCredentials(files: ProxyTls, read: (path: string) => string): Credentials {
  const pem = () => ({ cert: read(files.certFile), key: read(files.keyFile), ca: read(files.caFile) });
  return {
    files,
    pem,
    version: () => createHash('sha256').update(pem().cert).update(pem().ca).digest('hex').slice(0, 16),
    expiry: () => {
      try {
        return new X509Certificate(pem().cert).validToDate.toISOString();
      } catch {
        return undefined;
      }
    },
  };
}
