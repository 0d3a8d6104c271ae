// Shared pieces of the store contract suite: the harness a backend provides, sample objects, an event
// collector that waits on events (never sleeps), and error assertions. Only the contract files use it.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { type AlderError, isAlderError, type Resource } from '../../config/index.ts';
import type { Store, StoredObject, WatchEvent, WatchQuery, WriteOp } from './store.ts';

/** What a backend's factory returns: a fresh, empty store. */
export interface StoreHarness {
  store: Store;
  /** Closes the store and removes whatever the factory made. */
  cleanup: () => Promise<void>;
  /** Discards history at or below `revision` the backend's way; without it the compaction test skips. */
  compact?: (revision: string) => Promise<void>;
}

const waitTimeoutMs = 5_000;

export type WithStore = (
  fn: (h: StoreHarness, t: TestContext) => Promise<void>,
) => (t: TestContext) => Promise<void>;

/** Collects a watch's events and waits for them; every wait fails with a message after a timeout. */
export class EventLog {
  readonly events: WatchEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly onEvent = (event: WatchEvent): void => {
    this.events.push(event);
    for (const check of this.#waiters) check();
  };

  revisions(): string[] {
    return this.events.map((e) => e.object.metadata.resourceVersion);
  }

  until(isDone: () => boolean, what: string): Promise<void> {
    if (isDone()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!isDone()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(`timed out after ${waitTimeoutMs}ms waiting for ${what}; got [${this.revisions()}]`),
        );
      }, waitTimeoutMs);
      this.#waiters.add(check);
    });
  }

  /**
   * Writes a sentinel the watch matches (a VirtualService unless given) and waits for it: then every
   * earlier event has arrived and none is in flight. Fails when anything follows it; drops it from the log.
   */
  async settle(
    store: Store,
    what: string,
    sentinel = vs('sentinel', {}, { namespace: 'sentinel' }),
  ): Promise<void> {
    sentinelCount++;
    const out = await store.write([
      { op: 'apply', object: { ...sentinel, spec: { sentinel: sentinelCount } } },
    ]);
    const at = out.revision;
    await this.until(() => this.revisions().includes(at), `${what}: sentinel at ${at}`);
    const i = this.revisions().indexOf(at);
    assert.equal(i, this.events.length - 1, `${what}: want nothing after the sentinel at ${at}`);
    this.events.length = i;
  }
}

/** Makes every sentinel a change, so it always produces an event. */
let sentinelCount = 0;

/** A VirtualService in `default` unless `at` says otherwise; `at.resourceVersion` makes a precondition. */
export function vs(
  name: string,
  spec: Record<string, unknown> = {},
  at: { namespace?: string; resourceVersion?: string } = {},
): Resource {
  const { namespace = 'default', resourceVersion } = at;
  const metadata = resourceVersion === undefined ? { name, namespace } : { name, namespace, resourceVersion };
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata, spec };
}

export function meta(name: string): Resource['metadata'] {
  return { name, namespace: 'default' };
}

export function mesh(name: string): Resource {
  return { apiVersion: 'alder.dev/v1', kind: 'MeshConfig', metadata: { name }, spec: {} };
}

export function vsRef(name: string) {
  return { kind: 'VirtualService', namespace: 'default', name };
}

export function applyN(i: number): WriteOp {
  return { op: 'apply', object: vs(`obj-${i % 5}`, { n: i }) };
}

export function refOf(o: StoredObject) {
  return { kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
}

export function rev(o: StoredObject): bigint {
  return BigInt(o.metadata.resourceVersion);
}

export function eventType(action: string): string {
  return action === 'created' ? 'ADDED' : action === 'deleted' ? 'DELETED' : 'MODIFIED';
}

export function matches(query: Omit<WatchQuery, 'fromRevision'>, o: StoredObject): boolean {
  if (query.kind !== undefined && o.kind !== query.kind) return false;
  return query.namespace === undefined || (o.metadata.namespace ?? '') === query.namespace;
}

export function codeOf(err: unknown): string | undefined {
  return isAlderError(err) ? err.code : undefined;
}

export async function rejectsWith(p: Promise<unknown>, code: string, what: string): Promise<AlderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isAlderError(err), `${what}: want an AlderError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: want ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`${what}: want ${code}, but it succeeded`);
}
