// Istio's HTTPFaultInjection (a VirtualService route's `fault`): delays and aborts for a percentage
// of requests, checked as validateHTTPFaultInjection does. HTTP/2 resets and exponential delays
// are in the API but refused by Istio, and so here.

import { type Infer, int, num, obj, str } from '../schema.ts';
import { istioDuration } from './istio-duration.ts';

/** Istio's validatePercentage: 0, or between 0.0001 and 100. */
export const faultPercentage = obj(
  {
    value: num({
      min: 0,
      max: 100,
      refine: (v, c) => {
        if (v > 0 && v < 0.0001) c.error(`must be 0 or at least 0.0001, got ${v}`);
      },
    }),
  },
  { name: 'a percentage' },
);

/** gRPC status names Istio accepts (pkg/util/grpc SupportedGRPCStatus), in code order (OK is 0). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** Istio's validateHTTPStatus: 200 to 600 (sic: Istio's own bound). */
export const httpStatus = int({ min: 200, max: 600 });

const abort = obj(
  {
    httpStatus,
    grpcStatus: str({ enum: GRPC_STATUS_NAMES }),
    http2Error: str({
      refine: (_v, c) =>
        c.error('HTTP/2 abort fault injection is not supported: use httpStatus or grpcStatus'),
    }),
    percentage: faultPercentage,
  },
  {
    name: 'an abort fault',
    oneOf: [['httpStatus', 'grpcStatus', 'http2Error']],
    refine: (v, c) => {
      if (v.httpStatus === undefined && v.grpcStatus === undefined && v.http2Error === undefined) {
        c.warn('abort has no error type, so it does nothing: set httpStatus or grpcStatus');
      }
    },
  },
);

const delay = obj(
  {
    fixedDelay: istioDuration(),
    exponentialDelay: istioDuration(),
    /** Deprecated integer percentage; `percentage` wins when both are set. */
    percent: int({ min: -2147483648, max: 2147483647 }),
    percentage: faultPercentage,
  },
  {
    name: 'a delay fault',
    oneOf: [['fixedDelay', 'exponentialDelay']],
    refine: (v, c) => {
      if (v.exponentialDelay !== undefined) {
        c.error('exponential delays are not supported: use fixedDelay', 'exponentialDelay');
      }
    },
  },
);

export const httpFaultInjection = obj(
  { delay, abort },
  {
    name: 'a fault injection',
    refine: (v, c) => {
      if (v.delay === undefined && v.abort === undefined) c.error('must set abort, delay or both');
    },
  },
);

export type HTTPFaultInjection = Infer<typeof httpFaultInjection>;
