// Outlier detection as Envoy runs it for Istio's OutlierDetection: consecutive 5xx, gateway errors
// and (split) local-origin failures eject an endpoint for baseEjectionTime × its backoff; the caller
// calls tick() every intervalMs to return endpoints and decay backoffs. Balancers skip the ejected.

import type { Endpoint, OutlierDetection } from '../../wire/index.ts';
import { endpointKey } from './host.ts';

/** What became of one request to an endpoint. */
export type Outcome =
  | { kind: 'response'; status: number }
  /** Connect failure, timeout or reset: no response came from the endpoint. */
  | { kind: 'local-failure' };

/** Envoy's OutlierEjectionType names (the ejections_enforced_* stats). */
export const EjectionType = {
  Consecutive5xx: 'CONSECUTIVE_5XX',
  ConsecutiveGatewayFailure: 'CONSECUTIVE_GATEWAY_FAILURE',
  ConsecutiveLocalOriginFailure: 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE',
} as const;
export type EjectionType = (typeof EjectionType)[keyof typeof EjectionType];

export interface EjectedEndpoint {
  /** `address:port` */
  endpoint: string;
  type: EjectionType;
  ejectedAtMs: number;
  /** Returns at the first tick() at or after this. */
  untilMs: number;
  /** Times ejected while it stayed in the cluster. */
  ejections: number;
}

export interface OutlierSnapshot {
  endpoints: number;
  ejected: EjectedEndpoint[];
  /** Ejections refused by maxEjectionPercent (Envoy's ejections_overflow). */
  overflows: number;
  enforced: Record<EjectionType, number>;
}

export interface OutlierDetector {
  /** False without an OutlierDetection: reports are ignored and nothing is ejected. */
  readonly isEnabled: boolean;
  /** How often the caller must call tick(). */
  readonly intervalMs: number;
  /** Changes whenever an endpoint is ejected or returns: balancers recompute health when it moves. */
  readonly generation: number;
  /**
   * The endpoints balanced over (createBalancer calls this); records carry over by address:port,
   * gone ones are dropped, and reports about endpoints outside the set are ignored.
   */
  setEndpoints(endpoints: readonly Endpoint[]): void;
  report(endpoint: Endpoint, outcome: Outcome): void;
  /** The interval sweep: return endpoints whose time is up, then decay the backoff of healthy ones. */
  tick(): void;
  isEjected(endpoint: Endpoint): boolean;
  snapshot(): OutlierSnapshot;
}

export interface OutlierDetectorDeps {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Envoy's always_eject_one_host (off by default in Envoy, and Istio does not set it). */
  alwaysEjectOneHost?: boolean;
}

/** Envoy's default max_ejection_time (300 s), raised to baseEjectionTime when that is larger. */
const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

interface HostRecord {
  readonly key: string;
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  isEjected: boolean;
  ejectedAtMs: number;
  lastUnejectedAtMs: number | undefined;
  /** Envoy's ejectTimeBackoff: the multiplier of baseEjectionTime, decays while healthy. */
  backoff: number;
  ejections: number;
  type: EjectionType;
}

export function createOutlierDetector(
  config: OutlierDetection | undefined,
  deps: OutlierDetectorDeps,
): OutlierDetector {
  return new Detector(config, deps);
}

class Detector implements OutlierDetector {
  readonly isEnabled: boolean;
  readonly intervalMs: number;
  generation = 0;
  readonly #config: OutlierDetection | undefined;
  readonly #deps: OutlierDetectorDeps;
  readonly #maxEjectionTimeMs: number;
  #byEndpoint = new Map<Endpoint, HostRecord>();
  #byKey = new Map<string, HostRecord>();
  #ejectedCount = 0;
  #overflows = 0;
  readonly #enforced: Record<EjectionType, number> = {
    CONSECUTIVE_5XX: 0,
    CONSECUTIVE_GATEWAY_FAILURE: 0,
    CONSECUTIVE_LOCAL_ORIGIN_FAILURE: 0,
  };

  constructor(config: OutlierDetection | undefined, deps: OutlierDetectorDeps) {
    this.#config = config;
    this.#deps = deps;
    this.isEnabled = config !== undefined;
    this.intervalMs = config?.intervalMs ?? 10_000;
    this.#maxEjectionTimeMs = Math.max(DEFAULT_MAX_EJECTION_TIME_MS, config?.baseEjectionTimeMs ?? 0);
  }

  setEndpoints(endpoints: readonly Endpoint[]): void {
    const byEndpoint = new Map<Endpoint, HostRecord>();
    const byKey = new Map<string, HostRecord>();
    for (const e of endpoints) {
      const key = endpointKey(e);
      const record = byKey.get(key) ?? this.#byKey.get(key) ?? newRecord(key);
      byEndpoint.set(e, record);
      byKey.set(key, record);
    }
    let ejected = 0;
    for (const r of byKey.values()) if (r.isEjected) ejected++;
    if (ejected !== this.#ejectedCount) this.generation++;
    this.#ejectedCount = ejected;
    this.#byEndpoint = byEndpoint;
    this.#byKey = byKey;
  }

  report(endpoint: Endpoint, outcome: Outcome): void {
    const config = this.#config;
    if (config === undefined) return;
    const r = this.#recordOf(endpoint);
    if (r === undefined) return;
    if (outcome.kind === 'response') {
      // Envoy's putHttpResponseCode; in split mode a response also proves the connection worked.
      if (config.splitExternalLocalOriginErrors) r.consecutiveLocal = 0;
      this.#putStatus(r, outcome.status, config);
      return;
    }
    if (!config.splitExternalLocalOriginErrors) {
      // Not split: a connect failure counts as a 503 (gateway error and 5xx both).
      this.#putStatus(r, 503, config);
      return;
    }
    r.consecutiveLocal++;
    if (r.consecutiveLocal === config.consecutiveLocalOriginFailures) {
      this.#eject(r, EjectionType.ConsecutiveLocalOriginFailure);
      r.consecutiveLocal = 0;
    }
  }

  #putStatus(r: HostRecord, status: number, config: OutlierDetection): void {
    if (status < 500) {
      r.consecutive5xx = 0;
      r.consecutiveGateway = 0;
      return;
    }
    if (status === 502 || status === 503 || status === 504) {
      r.consecutiveGateway++;
      if (r.consecutiveGateway === config.consecutiveGatewayErrors) {
        this.#eject(r, EjectionType.ConsecutiveGatewayFailure);
        r.consecutiveGateway = 0;
      }
    } else {
      r.consecutiveGateway = 0;
    }
    r.consecutive5xx++;
    if (r.consecutive5xx === config.consecutive5xxErrors) {
      this.#eject(r, EjectionType.Consecutive5xx);
      r.consecutive5xx = 0;
    }
  }

  /** Envoy's ejectHost: only under maxEjectionPercent (counting this one), backoff capped by max time. */
  #eject(r: HostRecord, type: EjectionType): void {
    const config = this.#config!;
    if (r.isEjected) return;
    const percentAfter = (100 * (this.#ejectedCount + 1)) / this.#byKey.size;
    const isAllowed =
      percentAfter <= config.maxEjectionPercent ||
      (this.#deps.alwaysEjectOneHost === true && this.#ejectedCount === 0);
    if (!isAllowed) {
      this.#overflows++;
      return;
    }
    r.isEjected = true;
    r.ejectedAtMs = this.#deps.now();
    r.ejections++;
    r.type = type;
    if (r.backoff * config.baseEjectionTimeMs < this.#maxEjectionTimeMs + config.baseEjectionTimeMs)
      r.backoff++;
    this.#enforced[type]++;
    this.#ejectedCount++;
    this.generation++;
  }

  tick(): void {
    const config = this.#config;
    if (config === undefined) return;
    const now = this.#deps.now();
    for (const r of this.#byKey.values()) {
      if (!r.isEjected || this.#untilMs(r) > now) continue;
      r.isEjected = false;
      r.consecutive5xx = 0;
      r.consecutiveGateway = 0;
      r.consecutiveLocal = 0;
      r.lastUnejectedAtMs = now;
      this.#ejectedCount--;
      this.generation++;
    }
    for (const r of this.#byKey.values()) {
      const isSettled = r.lastUnejectedAtMs !== undefined && now - r.lastUnejectedAtMs >= config.intervalMs;
      if (!r.isEjected && isSettled && r.backoff > 0) r.backoff--;
    }
  }

  #untilMs(r: HostRecord): number {
    const config = this.#config!;
    return r.ejectedAtMs + Math.min(config.baseEjectionTimeMs * r.backoff, this.#maxEjectionTimeMs);
  }

  isEjected(endpoint: Endpoint): boolean {
    return this.#recordOf(endpoint)?.isEjected ?? false;
  }

  #recordOf(endpoint: Endpoint): HostRecord | undefined {
    return this.#byEndpoint.get(endpoint) ?? this.#byKey.get(endpointKey(endpoint));
  }

  snapshot(): OutlierSnapshot {
    const ejected: EjectedEndpoint[] = [];
    for (const r of this.#byKey.values()) {
      if (!r.isEjected) continue;
      ejected.push({
        endpoint: r.key,
        type: r.type,
        ejectedAtMs: r.ejectedAtMs,
        untilMs: this.#untilMs(r),
        ejections: r.ejections,
      });
    }
    return {
      endpoints: this.#byKey.size,
      ejected,
      overflows: this.#overflows,
      enforced: { ...this.#enforced },
    };
  }
}

function newRecord(key: string): HostRecord {
  return {
    key,
    consecutive5xx: 0,
    consecutiveGateway: 0,
    consecutiveLocal: 0,
    isEjected: false,
    ejectedAtMs: 0,
    lastUnejectedAtMs: undefined,
    backoff: 0,
    ejections: 0,
    type: EjectionType.Consecutive5xx,
  };
}
