// Fans committed store events out to watchers. Each watcher has its own queue, drained in a microtask:
// backlog first, then live events, in revision order. A listener that throws, stops, or writes to the
// store from inside its callback cannot reorder or break anyone's stream. Backends do the replay.

import type { Watch, WatchEvent, WatchQuery } from './store.ts';

/** An event with its revision as a number; the backend's log yields these. */
export interface LoggedEvent {
  revision: number;
  event: WatchEvent;
}

interface Watcher {
  query: WatchQuery;
  onEvent: (event: WatchEvent) => void;
  queue: LoggedEvent[];
  /** Published events at or below this revision are already in the backlog. */
  liveAfter: number;
  isScheduled: boolean;
  isStopped: boolean;
}

export class WatchHub {
  readonly #watchers = new Set<Watcher>();
  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /**
   * Registers a watcher. It gets `backlog` (already filtered by the caller), then every published
   * event above `liveAfter` that matches `query`. Call this in the same synchronous step that read
   * the backlog, so that no commit falls between the two.
   */
  add(
    query: WatchQuery,
    onEvent: (event: WatchEvent) => void,
    backlog: LoggedEvent[],
    liveAfter: number,
  ): Watch {
    const watcher: Watcher = {
      query,
      onEvent,
      queue: backlog,
      liveAfter,
      isScheduled: false,
      isStopped: false,
    };
    this.#watchers.add(watcher);
    this.#schedule(watcher);
    return { stop: () => this.#stop(watcher) };
  }

  /** Queues committed events, in revision order, for every watcher they match. */
  publish(events: readonly LoggedEvent[]): void {
    for (const watcher of this.#watchers) {
      for (const e of events) {
        if (e.revision > watcher.liveAfter && matches(watcher.query, e.event)) watcher.queue.push(e);
      }
      this.#schedule(watcher);
    }
  }

  stopAll(): void {
    for (const watcher of this.#watchers) this.#stop(watcher);
  }

  #stop(watcher: Watcher): void {
    watcher.isStopped = true;
    watcher.queue = [];
    this.#watchers.delete(watcher);
  }

  #schedule(watcher: Watcher): void {
    if (watcher.isScheduled || watcher.queue.length === 0) return;
    watcher.isScheduled = true;
    queueMicrotask(() => this.#drain(watcher));
  }

  #drain(watcher: Watcher): void {
    // Take the queue whole: events published by a listener land in a fresh queue, delivered next.
    while (!watcher.isStopped && watcher.queue.length > 0) {
      const batch = watcher.queue;
      watcher.queue = [];
      for (const e of batch) {
        if (watcher.isStopped) break;
        try {
          watcher.onEvent(e.event);
        } catch (err) {
          this.#onListenerError(err);
        }
      }
    }
    watcher.isScheduled = false;
  }
}

function matches(query: WatchQuery, event: WatchEvent): boolean {
  const { kind, metadata } = event.object;
  if (query.kind !== undefined && query.kind !== kind) return false;
  return query.namespace === undefined || query.namespace === (metadata.namespace ?? '');
}
