// A WorkloadGroup's probe as the proxy's agent runs it: Istio's ReadinessProbe with Kubernetes'
// defaults applied and its seconds made milliseconds (the wire's ProbePlan). Pure.

import { PROBE_DEFAULTS, type ReadinessProbe } from '../config/index.ts';
import type { ProbePlan } from '../wire/index.ts';

export type { ProbePlan };

/** `value` unless unset or 0, which mean the default (Istio and Kubernetes alike). */
function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined || value === 0 ? fallback : value;
}

export function probePlanOf(probe: ReadinessProbe): ProbePlan {
  const plan: ProbePlan = {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    timeoutMs: orDefault(probe.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds) * 1000,
    periodMs: orDefault(probe.periodSeconds, PROBE_DEFAULTS.periodSeconds) * 1000,
    successThreshold: orDefault(probe.successThreshold, PROBE_DEFAULTS.successThreshold),
    failureThreshold: orDefault(probe.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
  if (probe.httpGet !== undefined) plan.httpGet = structuredClone(probe.httpGet);
  if (probe.tcpSocket !== undefined) plan.tcpSocket = structuredClone(probe.tcpSocket);
  if (probe.exec !== undefined) plan.exec = structuredClone(probe.exec);
  if (probe.grpc !== undefined) plan.grpc = structuredClone(probe.grpc);
  return plan;
}
