// Public face of load balancing for the upstream layer: per-cluster balancers built once per
// snapshot (ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV, PASSTHROUGH, with locality
// priorities and slow start), outlier detection, circuit breaking, what each endpoint was observed
// to do, and the hash key of a request.
// Pure: no sockets or timers; the caller injects time and randomness and drives OutlierDetector.tick.

export {
  type Balancer,
  type BalancerDeps,
  type BalancerDescription,
  createBalancer,
  type PickContext,
} from './balancer.ts';
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  createCircuitBreaker,
  DEFAULT_RETRY_BUDGET,
  type Release,
  type RetryBudget,
} from './circuit-breaker.ts';
export { type HashKeyResult, type HashRequestView, hashKeyOf } from './hash-key.ts';
export {
  createObservedHealth,
  type EndpointRecord,
  type Observation,
  type ObservedHealth,
} from './observed-health.ts';
export {
  createOutlierDetector,
  type EjectedEndpoint,
  EjectionType,
  type Outcome,
  type OutlierDetector,
  type OutlierDetectorDeps,
  type OutlierSnapshot,
} from './outlier-detector.ts';
export { NoEndpointReason, type PickedEndpoint, type PickResult } from './pick.ts';
