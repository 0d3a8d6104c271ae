// What this proxy saw of each endpoint of one cluster, whatever the registry declares and whether or
// not a DestinationRule sets outlier detection: how many tries failed in a row, the last failure (when,
// and why: a connect failure with its reason, a reset, a timeout, a 5xx) and the last success. The
// upstream layer reports each try; the admin views read it. Outlier detection alone decides ejections.

import type { Endpoint } from '../../wire/index.ts';
import { endpointKey } from './host.ts';

/** How one try to an endpoint ended, as observation needs it. */
export type Observation =
  | { kind: 'success' }
  /** `reason` in words: `503 response`, `connect failure: connection refused`, `reset before the response`. */
  | { kind: 'failure'; reason: string };

export interface EndpointRecord {
  /** Failed tries since the last success (0: the last try succeeded, or none was made). */
  consecutiveFailures: number;
  /** Milliseconds on the observer's clock; undefined until a try failed. */
  lastFailureAtMs: number | undefined;
  lastFailureReason: string;
  lastSuccessAtMs: number | undefined;
}

export interface ObservedHealth {
  /**
   * The cluster's endpoints (each snapshot version): records carry over by address:port, gone ones
   * are dropped, so the records never outnumber the endpoints; reports about others are ignored.
   */
  setEndpoints(endpoints: readonly Endpoint[]): void;
  report(endpoint: Endpoint, observation: Observation): void;
  /** The record of `address:port`; undefined for an endpoint no try has reached. */
  recordOf(key: string): Readonly<EndpointRecord> | undefined;
}

/** `now`: milliseconds, monotonic (the admin views turn them into wall-clock times). */
export function createObservedHealth(deps: { now(): number }): ObservedHealth {
  return new Observer(deps.now);
}

class Observer implements ObservedHealth {
  readonly #now: () => number;
  /** By the snapshot's own Endpoint objects first (no key built per request), then by address:port. */
  #byEndpoint = new Map<Endpoint, EndpointRecord>();
  #byKey = new Map<string, EndpointRecord>();

  constructor(now: () => number) {
    this.#now = now;
  }

  setEndpoints(endpoints: readonly Endpoint[]): void {
    const byEndpoint = new Map<Endpoint, EndpointRecord>();
    const byKey = new Map<string, EndpointRecord>();
    for (const e of endpoints) {
      const key = endpointKey(e);
      const record = byKey.get(key) ?? this.#byKey.get(key) ?? newRecord();
      byEndpoint.set(e, record);
      byKey.set(key, record);
    }
    this.#byEndpoint = byEndpoint;
    this.#byKey = byKey;
  }

  report(endpoint: Endpoint, observation: Observation): void {
    const r = this.#byEndpoint.get(endpoint) ?? this.#byKey.get(endpointKey(endpoint));
    if (r === undefined) return;
    if (observation.kind === 'success') {
      r.consecutiveFailures = 0;
      r.lastSuccessAtMs = this.#now();
      return;
    }
    r.consecutiveFailures++;
    r.lastFailureAtMs = this.#now();
    r.lastFailureReason = observation.reason;
  }

  recordOf(key: string): Readonly<EndpointRecord> | undefined {
    const r = this.#byKey.get(key);
    return r === undefined || (r.lastFailureAtMs === undefined && r.lastSuccessAtMs === undefined)
      ? undefined
      : r;
  }
}

function newRecord(): EndpointRecord {
  return {
    consecutiveFailures: 0,
    lastFailureAtMs: undefined,
    lastFailureReason: '',
    lastSuccessAtMs: undefined,
  };
}
