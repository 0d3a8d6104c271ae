// A DestinationRule's outlierDetection as the wire's OutlierDetection, with the values Envoy uses
// where Istio leaves a field unset (cluster_traffic_policy.go applyOutlierDetection): 5 consecutive
// 5xx, gateway errors off, 5 local-origin failures, 10s interval, 30s base ejection, at most 10%
// ejected, and the panic threshold (minHealthPercent) at 0. The deprecated `consecutiveErrors` is
// ignored, as Istio has ignored it since 1.7.

import type { OutlierDetection as IstioOutlierDetection } from '../config/index.ts';
import type { OutlierDetection } from '../wire/index.ts';
import { msOf } from './durations.ts';

export function outlierDetectionOf(od: IstioOutlierDetection | undefined): OutlierDetection | undefined {
  if (od === undefined) return undefined;
  const split = od.splitExternalLocalOriginErrors === true;
  const localOrigin = od.consecutiveLocalOriginFailures ?? 0;
  return {
    consecutive5xxErrors: od.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
    consecutiveLocalOriginFailures: split && localOrigin > 0 ? localOrigin : 5,
    splitExternalLocalOriginErrors: split,
    intervalMs: msOf(od.interval) ?? 10_000,
    baseEjectionTimeMs: msOf(od.baseEjectionTime) ?? 30_000,
    maxEjectionPercent:
      od.maxEjectionPercent !== undefined && od.maxEjectionPercent > 0 ? od.maxEjectionPercent : 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
}
