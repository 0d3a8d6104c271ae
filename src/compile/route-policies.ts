// The per-route policies besides the action: fault injection (Istio's TranslateFault: a missing
// percentage means 0%, as Istio and Envoy do it, istio/istio#36303), CORS (TranslateCORSPolicy)
// and mirrors (MirrorPercent: 100% unless a percentage says otherwise; 0 turns a mirror off).

import type { Destination, HTTPFaultInjection, HTTPRoute, CorsPolicy as IstioCors } from '../config/index.ts';
import type { CorsPolicy, FaultPolicy, MirrorPolicy } from '../wire/index.ts';
import { msOf } from './durations.ts';
import { stringMatchOf } from './route-match.ts';

export function faultOf(fault: HTTPFaultInjection | undefined): FaultPolicy | undefined {
  if (fault === undefined) return undefined;
  const out: FaultPolicy = {};
  const fixedMs = msOf(fault.delay?.fixedDelay);
  if (fault.delay !== undefined && fixedMs !== undefined) {
    const legacy = Math.min(100, Math.max(0, fault.delay.percent ?? 0));
    out.delay = { fixedMs, percent: fault.delay.percentage?.value ?? legacy };
  }
  const abort = fault.abort;
  if (abort?.httpStatus !== undefined) {
    out.abort = { httpStatus: abort.httpStatus, percent: abort.percentage?.value ?? 0 };
  } else if (abort?.grpcStatus !== undefined) {
    out.abort = { grpcStatus: abort.grpcStatus, percent: abort.percentage?.value ?? 0 };
  }
  return out.delay === undefined && out.abort === undefined ? undefined : out;
}

export function corsOf(cors: IstioCors | undefined): CorsPolicy | undefined {
  if (cors === undefined) return undefined;
  const origins =
    cors.allowOrigins !== undefined
      ? cors.allowOrigins.flatMap((o) => {
          const m = stringMatchOf(o);
          return m === undefined ? [] : [m];
        })
      : (cors.allowOrigin ?? []).map((exact) => ({ exact }));
  const maxAgeMs = msOf(cors.maxAge);
  return {
    allowOrigins: origins,
    allowMethods: [...(cors.allowMethods ?? [])],
    allowHeaders: [...(cors.allowHeaders ?? [])],
    exposeHeaders: [...(cors.exposeHeaders ?? [])],
    ...(maxAgeMs === undefined ? {} : { maxAgeSeconds: Math.floor(maxAgeMs / 1000) }),
    ...(cors.allowCredentials === undefined ? {} : { allowCredentials: cors.allowCredentials }),
    unmatchedPreflights: cors.unmatchedPreflights === 'IGNORE' ? 'IGNORE' : 'FORWARD',
  };
}

/** `clusterOf` names the cluster for a destination, as route destinations do. */
export function mirrorsOf(route: HTTPRoute, clusterOf: (d: Destination) => string): MirrorPolicy[] {
  const out: MirrorPolicy[] = [];
  const add = (d: Destination, percent: number) => {
    if (percent > 0) out.push({ cluster: clusterOf(d), host: d.host, percent });
  };
  if (route.mirror !== undefined) {
    const legacy = route.mirrorPercent ?? route.mirror_percent;
    add(route.mirror, route.mirrorPercentage?.value ?? legacy ?? 100);
  }
  for (const m of route.mirrors ?? []) add(m.destination, m.percentage?.value ?? 100);
  return out;
}
