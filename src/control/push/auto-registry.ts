// Auto-registered WorkloadEntries as leases, as Istio's WorkloadEntry controller keeps them: a proxy
// joining as a member of a WorkloadGroup gets an entry made from the group's template; the entry
// stays while the proxy's stream is up and for a grace period after it drops (a restart or a short
// network cut keeps the workload's name and place), then goes, so a crash leaves nothing stale. A
// proxy that says goodbye takes its entry with it at once. An entry a person wrote is never touched.

import { isIP } from 'node:net';
import {
  AUTO_REGISTRATION_GROUP_ANNOTATION,
  autoRegisteredEntry,
  autoRegisteredName,
  type WorkloadJoin,
} from '../../compile/index.ts';
import {
  AlderError,
  checkObject,
  ErrorCode,
  findKindByName,
  isAlderError,
  type KindInfo,
  type Resource,
  type WorkloadEntrySpec,
  type WorkloadGroupSpec,
} from '../../config/index.ts';
import { parseSpiffeId } from '../../identity/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { Hello } from '../../wire/index.ts';
import type { Store } from '../store/index.ts';

/** Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD is 10 s. */
export const DEFAULT_AUTO_REGISTRATION_GRACE_MS = 10_000;

export interface AutoRegistryOptions {
  store: Store;
  log: Logger;
  /** How long an entry outlives its proxy's stream. */
  graceMs?: number;
}

/** True for an entry made by auto-registration (the group annotation Istio sets). */
export function isAutoRegistered(entry: Resource | undefined): boolean {
  return entry?.metadata.annotations?.[AUTO_REGISTRATION_GROUP_ANNOTATION] !== undefined;
}

export class AutoRegistry {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #entryKind: KindInfo;
  /** `namespace/name` → the timer that removes the entry when its grace ends. */
  readonly #expiries = new Map<string, NodeJS.Timeout>();
  #isStopped = false;

  constructor(options: AutoRegistryOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#graceMs = options.graceMs ?? DEFAULT_AUTO_REGISTRATION_GRACE_MS;
    this.#entryKind = findKindByName('WorkloadEntry') as KindInfo;
  }

  get graceMs(): number {
    return this.#graceMs;
  }

  /**
   * Stores the entry of a workload joining `group` (creates it, or refreshes the one it had) and
   * returns it. Refuses when an entry of that name exists that auto-registration did not make.
   */
  async register(
    group: Resource<WorkloadGroupSpec>,
    join: WorkloadJoin,
  ): Promise<Resource<WorkloadEntrySpec>> {
    const entry = await this.prepare(group, join);
    await this.store(entry, group);
    return entry;
  }

  /**
   * The entry a workload joining `group` would get, checked (valid, and not in the place of an entry
   * a person wrote) but not stored: a join checks this before it spends a use of its token.
   */
  async prepare(
    group: Resource<WorkloadGroupSpec>,
    join: WorkloadJoin,
  ): Promise<Resource<WorkloadEntrySpec>> {
    const entry = autoRegisteredEntry(group, join);
    const namespace = entry.metadata.namespace ?? 'default';
    const checked = checkObject(entry as unknown as Record<string, unknown>, this.#entryKind);
    const errors = checked.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `the WorkloadEntry for this workload is not valid: ${errors
          .slice(0, 5)
          .map((i) => `${i.path}: ${i.message}`)
          .join('; ')}`,
        { hint: 'check --label and --address' },
      );
    }
    const ref = { kind: 'WorkloadEntry', namespace, name: entry.metadata.name };
    const existing = await this.#store.get(ref);
    if (existing !== undefined && !isAutoRegistered(existing)) {
      throw new AlderError(
        ErrorCode.StoreAlreadyExists,
        `WorkloadEntry ${namespace}/${entry.metadata.name} exists and was not made by auto-registration: it is not replaced`,
        {
          hint: `join with --workload ${namespace}/${entry.metadata.name}, or give this workload another --address`,
        },
      );
    }
    return entry;
  }

  /** Stores a prepared entry (creates it, or refreshes the one the workload had). */
  async store(entry: Resource<WorkloadEntrySpec>, group: Resource<WorkloadGroupSpec>): Promise<void> {
    const namespace = entry.metadata.namespace ?? 'default';
    this.connected(`${namespace}/${entry.metadata.name}`);
    await this.#store.write([{ op: 'apply', object: entry }]);
    // Until its proxy's stream says hello, the entry is on the same lease as a proxy that left: a
    // join whose proxy never connects (it failed to start) leaves nothing behind.
    this.#expire(entry, `its proxy did not connect within ${this.#graceMs / 1000}s of joining`);
    this.#log.info('workload registered', {
      workload: `${namespace}/${entry.metadata.name}`,
      group: `${namespace}/${group.metadata.name}`,
      address: entry.spec?.address,
    });
  }

  /**
   * Makes again the entry of a member that reconnected after it expired, from what its hello says
   * (`autoRegister`), for the identity its certificate proves and only under the name the group
   * gives that address. Rejects with the reason otherwise.
   */
  async registerAgain(group: Resource<WorkloadGroupSpec>, hello: Hello, spiffeId: string): Promise<void> {
    const { namespace, name } = hello.workload;
    const id = parseSpiffeId(spiffeId);
    const serviceAccount = group.spec?.template.serviceAccount || 'default';
    const where = `WorkloadGroup ${namespace}/${group.metadata.name}`;
    if (id?.namespace !== namespace || id.serviceAccount !== serviceAccount) {
      throw new AlderError(
        ErrorCode.Forbidden,
        `the proxy's certificate names ${spiffeId}, but ${where} runs as service account ${serviceAccount}`,
      );
    }
    const address = String(hello.autoRegister?.address);
    if (autoRegisteredName(group.metadata.name, address) !== name) {
      throw new AlderError(
        ErrorCode.Forbidden,
        `${namespace}/${name} is not the name ${where} gives address ${address}`,
      );
    }
    const said = hello.autoRegister?.labels;
    const labels = typeof said === 'object' && said !== null ? said : {};
    const appAddress = hello.autoRegister?.appAddress;
    try {
      await this.register(group, {
        address,
        labels,
        ...(typeof appAddress === 'string' && isIP(appAddress) !== 0 ? { appAddress } : {}),
      });
      this.connected(`${namespace}/${name}`); // made again for a proxy that is connected now
    } catch (err) {
      throw new AlderError(
        ErrorCode.Forbidden,
        `cannot register ${namespace}/${name} again: ${(err as Error).message}`,
      );
    }
  }

  /** The workload's proxy is connected: its entry stays. */
  connected(workload: string): void {
    const timer = this.#expiries.get(workload);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#expiries.delete(workload);
  }

  /**
   * The workload's last stream closed: an auto-registered entry goes now (the proxy said goodbye)
   * or when the grace period ends without a reconnect.
   */
  disconnected(entry: Resource | undefined, saidGoodbye: boolean): void {
    if (entry === undefined || !isAutoRegistered(entry)) return;
    const workload = `${entry.metadata.namespace ?? 'default'}/${entry.metadata.name}`;
    if (saidGoodbye) {
      this.connected(workload);
      void this.#remove(entry, 'its proxy stopped');
      return;
    }
    this.#expire(entry, `its proxy has been gone for ${this.#graceMs / 1000}s`);
  }

  /**
   * At start: auto-registered entries whose proxy does not connect within the grace period go (their
   * proxy died while no control plane was watching it).
   */
  adopt(entries: readonly Resource[], isConnected: (workload: string) => boolean): void {
    for (const entry of entries) {
      if (!isAutoRegistered(entry)) continue;
      const workload = `${entry.metadata.namespace ?? 'default'}/${entry.metadata.name}`;
      if (!isConnected(workload))
        this.#expire(entry, `no proxy connected for it within ${this.#graceMs / 1000}s`);
    }
  }

  stop(): void {
    this.#isStopped = true;
    for (const timer of this.#expiries.values()) clearTimeout(timer);
    this.#expiries.clear();
  }

  #expire(entry: Resource, why: string): void {
    const workload = `${entry.metadata.namespace ?? 'default'}/${entry.metadata.name}`;
    if (this.#isStopped || this.#expiries.has(workload)) return;
    const timer = setTimeout(() => {
      this.#expiries.delete(workload);
      void this.#remove(entry, why);
    }, this.#graceMs);
    timer.unref();
    this.#expiries.set(workload, timer);
  }

  /** Deletes the entry as it was seen; a newer write (the workload joined again) wins. */
  async #remove(entry: Resource, why: string): Promise<void> {
    if (this.#isStopped) return;
    const namespace = entry.metadata.namespace ?? 'default';
    const ref = { kind: 'WorkloadEntry', namespace, name: entry.metadata.name };
    const resourceVersion = entry.metadata.resourceVersion;
    try {
      await this.#store.write([
        { op: 'delete', ref, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
      ]);
      this.#log.info('workload unregistered', {
        workload: `${namespace}/${entry.metadata.name}`,
        reason: why,
      });
    } catch (err) {
      const code = isAlderError(err) ? err.code : undefined;
      if (code === ErrorCode.StoreNotFound || code === ErrorCode.StoreConflict) return;
      this.#log.warn('cannot remove an auto-registered WorkloadEntry', {
        workload: `${namespace}/${entry.metadata.name}`,
        error: (err as Error).message,
      });
    }
  }
}
