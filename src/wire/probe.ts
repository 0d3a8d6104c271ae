// The readiness probe a proxy runs against its app, as the control plane sends it in the `proxy`
// resource: a WorkloadGroup's `probe` with Kubernetes' defaults applied and seconds made milliseconds.

import type { ReadinessProbe } from '../config/index.ts';

export interface ProbePlan {
  initialDelayMs: number;
  timeoutMs: number;
  periodMs: number;
  successThreshold: number;
  failureThreshold: number;
  httpGet?: NonNullable<ReadinessProbe['httpGet']>;
  tcpSocket?: NonNullable<ReadinessProbe['tcpSocket']>;
  exec?: NonNullable<ReadinessProbe['exec']>;
  grpc?: NonNullable<ReadinessProbe['grpc']>;
}
