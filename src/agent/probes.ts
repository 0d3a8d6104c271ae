// The readiness probe a proxy runs against its app (a WorkloadGroup's `probe`), with Kubernetes'
// semantics: after the initial delay one attempt per period, each bounded by the timeout and never
// two at once; healthy after successThreshold successes in a row, unhealthy after failureThreshold
// failures. It reports only changes; the agent tells the control plane, which takes the workload out
// of rotation. The handlers themselves are in probe-checks.ts, loaded with the first probe: most
// proxies run none, and need not carry their code.

type Checks = typeof import('./probe-checks.ts');
let checks: Promise<Checks> | undefined;

function loadChecks(): Promise<Checks> {
  checks ??= import('./probe-checks.ts');
  return checks;
}

/**
 * A probe as plain data: Istio's ReadinessProbe with times in milliseconds. Unset or 0 timing fields
 * take Kubernetes' defaults (timeout 1 s, period 10 s, success 1, failure 3). Exactly one handler.
 */
export interface ProbeSpec {
  initialDelayMs?: number;
  timeoutMs?: number;
  periodMs?: number;
  successThreshold?: number;
  failureThreshold?: number;
  /** 2xx and 3xx are healthy; the app's certificate is not verified (as Kubernetes). */
  httpGet?: {
    path?: string;
    port: number;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value?: string }[];
  };
  /** Healthy when the connection opens. */
  tcpSocket?: { host?: string; port: number };
  /** Healthy when the command exits 0; killed (with what it started) at the timeout. */
  exec?: { command: string[] };
  /** grpc.health.v1.Health/Check over h2c; healthy when it answers SERVING. */
  grpc?: { port: number; service?: string };
}

export interface ProbeState {
  healthy: boolean;
  /** The last attempt and how many in a row: `GET http://127.0.0.1:9080/healthz: 503 after 3 failures`. */
  reason: string;
  /** When the state changed, in ms since the epoch. */
  since: number;
}

export interface ProbeOptions {
  /** Where httpGet and tcpSocket go when the probe names no host, and where grpc goes: the app's address. */
  defaultHost: string;
  /**
   * Called on each change of health, the first verdict included. Until then the app counts as not
   * ready, as Kubernetes' readiness does.
   */
  onChange(state: ProbeState): void;
}

export interface RunningProbe {
  /** Ends the timers and any attempt in flight; no call to onChange follows. */
  stop(): void;
}

const DEFAULTS = { timeoutMs: 1000, periodMs: 10_000, successThreshold: 1, failureThreshold: 3 };

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined || value <= 0 ? fallback : value;
}

function times(n: number, what: 'success' | 'failure'): string {
  if (n === 1) return `1 ${what}`;
  return `${n} ${what === 'success' ? 'successes' : 'failures'}`;
}

/** Starts probing; the first attempt runs after `initialDelayMs`. */
export function startProbe(probe: ProbeSpec, options: ProbeOptions): RunningProbe {
  const timeoutMs = orDefault(probe.timeoutMs, DEFAULTS.timeoutMs);
  const periodMs = orDefault(probe.periodMs, DEFAULTS.periodMs);
  const successThreshold = orDefault(probe.successThreshold, DEFAULTS.successThreshold);
  const failureThreshold = orDefault(probe.failureThreshold, DEFAULTS.failureThreshold);

  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: AbortController | undefined;
  let healthy: boolean | undefined;
  let successes = 0;
  let failures = 0;

  const schedule = (delayMs: number) => {
    timer = setTimeout(attempt, Math.max(0, delayMs));
  };
  const loaded = loadChecks();

  function attempt(): void {
    timer = undefined;
    void loaded.then((c) => {
      if (!isStopped) run(c);
    });
  }

  function run({ runAttempt }: Checks): void {
    const startedAt = Date.now();
    const abort = new AbortController();
    inFlight = abort;
    const deadline = setTimeout(() => abort.abort(), timeoutMs);
    void runAttempt(probe, { signal: abort.signal, timeoutMs, defaultHost: options.defaultHost }).then(
      (result) => {
        clearTimeout(deadline);
        inFlight = undefined;
        if (isStopped) return;
        record(result.ok, result.detail);
        // The next attempt one period after this one started, or at once if this one took longer.
        if (!isStopped) schedule(startedAt + periodMs - Date.now());
      },
    );
  }

  function record(ok: boolean, detail: string): void {
    if (ok) {
      successes++;
      failures = 0;
      if (healthy !== true && successes >= successThreshold)
        change(true, `${detail} after ${times(successes, 'success')}`);
    } else {
      failures++;
      successes = 0;
      if (healthy !== false && failures >= failureThreshold)
        change(false, `${detail} after ${times(failures, 'failure')}`);
    }
  }

  function change(isHealthy: boolean, reason: string): void {
    healthy = isHealthy;
    options.onChange({ healthy: isHealthy, reason, since: Date.now() });
  }

  schedule(probe.initialDelayMs ?? 0);
  return {
    stop() {
      isStopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      inFlight?.abort();
    },
  };
}
