// Istio's fault injection decided per request, as Envoy's fault filter does it: a delay for
// `percent` of requests, then (independently) an abort for `percent` of requests, either an HTTP
// status or a gRPC status. The router waits, replies and records flags DI / FI.

import type { FaultPolicy } from '../../wire/index.ts';
import type { RandomSource } from './weighted-picker.ts';

/** gRPC status names (Istio's `grpcStatus`) and their codes, from grpc/status.proto. */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusName = keyof typeof GRPC_STATUS;

export type FaultAbort = { kind: 'http'; status: number } | { kind: 'grpc'; grpcStatus: number };

export interface FaultDecision {
  /** 0: no delay. */
  delayMs: number;
  abort: FaultAbort | undefined;
}

export interface CompiledFault {
  decide(random: RandomSource): FaultDecision;
}

const NO_FAULT: FaultDecision = { delayMs: 0, abort: undefined };

/** Compiles a fault policy; throws on a gRPC status name Istio does not know. */
export function compileFault(policy: FaultPolicy): CompiledFault {
  const delay = policy.delay;
  const abort = policy.abort === undefined ? undefined : compileAbort(policy.abort);
  const abortPercent = policy.abort?.percent ?? 0;
  return {
    decide(random) {
      const delayMs = delay !== undefined && sampled(delay.percent, random) ? delay.fixedMs : 0;
      const aborted = abort !== undefined && sampled(abortPercent, random) ? abort : undefined;
      return delayMs === 0 && aborted === undefined ? NO_FAULT : { delayMs, abort: aborted };
    },
  };
}

/** `percent` in [0, 100], with fractions (Istio sends Envoy a fraction per million). */
function sampled(percent: number, random: RandomSource): boolean {
  return percent >= 100 || random() * 100 < percent;
}

function compileAbort(abort: NonNullable<FaultPolicy['abort']>): FaultAbort | undefined {
  if (abort.grpcStatus !== undefined) {
    const code = (GRPC_STATUS as Record<string, number>)[abort.grpcStatus];
    if (code === undefined) {
      throw new Error(
        `fault.abort.grpcStatus: unknown gRPC status ${JSON.stringify(abort.grpcStatus)}; use one of ${Object.keys(GRPC_STATUS).join(', ')}`,
      );
    }
    return { kind: 'grpc', grpcStatus: code };
  }
  if (abort.httpStatus !== undefined) return { kind: 'http', status: abort.httpStatus };
  return undefined;
}
