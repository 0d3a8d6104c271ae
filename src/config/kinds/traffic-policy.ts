// TrafficPolicy: the per-destination settings of a DestinationRule (connection pools, outlier
// detection, load balancing, TLS, per-port overrides, tunnelling, PROXY protocol, retry budget).
// Ports Istio's validateTrafficPolicy and the functions it calls; DestinationRule uses it twice.

import { parseDurationMs } from '../duration.ts';
import { arr, bool, type Checker, duration, type Infer, int, num, obj, type Schema, str } from '../schema.ts';
import { clientTls } from './client-tls.ts';
import { istioDuration } from './istio-duration.ts';
import { loadBalancer } from './load-balancer.ts';
import { ipOrHostProblem } from './workload-entry.ts';

const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;
/** Counts Istio keeps in int32 fields and refuses below zero. */
const count = int({ min: 0, max: INT32_MAX });
const uint32 = int({ min: 0, max: UINT32_MAX });

const tcpSettings = obj(
  {
    maxConnections: count,
    connectTimeout: istioDuration(),
    tcpKeepalive: obj({ probes: uint32, time: istioDuration(), interval: istioDuration() }),
    maxConnectionDuration: istioDuration(),
    idleTimeout: idleTimeoutOrZero(),
  },
  { name: 'TCP connection pool settings' },
);

const httpSettings = obj(
  {
    http1MaxPendingRequests: count,
    http2MaxRequests: count,
    maxRequestsPerConnection: count,
    maxRetries: count,
    idleTimeout: istioDuration(),
    h2UpgradePolicy: str({ enum: ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] }),
    useClientProtocol: bool(),
    maxConcurrentStreams: count,
    http2KeepAlive: obj(
      { interval: istioDuration(), timeout: istioDuration() },
      { required: ['interval', 'timeout'], name: 'HTTP/2 keepalive settings' },
    ),
  },
  {
    name: 'HTTP connection pool settings',
    refine: (v, c) => {
      if (v.h2UpgradePolicy === 'UPGRADE' && v.useClientProtocol === true) {
        c.error('must not be true when h2UpgradePolicy is UPGRADE', 'useClientProtocol');
      }
    },
  },
);

/** Istio's ConnectionPoolSettings: at least one of tcp and http. */
export const connectionPool = obj(
  { tcp: tcpSettings, http: httpSettings },
  {
    name: 'a connection pool setting',
    refine: (v, c) => {
      if (v.tcp === undefined && v.http === undefined) c.error('must set tcp or http');
    },
  },
);

/** Istio's OutlierDetection. */
export const outlierDetection = obj(
  {
    splitExternalLocalOriginErrors: bool(),
    consecutiveLocalOriginFailures: uint32,
    consecutiveGatewayErrors: uint32,
    consecutive5xxErrors: uint32,
    outlierDetectionHttpErrorCodes: arr(int({ min: 100, max: 599 })),
    interval: istioDuration(),
    baseEjectionTime: istioDuration(),
    maxEjectionPercent: int({ min: 0, max: 100 }),
    minHealthPercent: int({ min: 0, max: 100 }),
    consecutiveErrors: int({ min: -2147483648, max: INT32_MAX }),
  },
  {
    name: 'an outlier detection setting',
    refine: (v, c) => {
      if (v.consecutiveErrors !== undefined && v.consecutiveErrors !== 0) {
        c.warn('is deprecated: use consecutiveGatewayErrors or consecutive5xxErrors', 'consecutiveErrors');
      }
      if (v.splitExternalLocalOriginErrors !== true && (v.consecutiveLocalOriginFailures ?? 0) > 0) {
        c.error(
          'counts only when splitExternalLocalOriginErrors is true: set it, or remove this field',
          'consecutiveLocalOriginFailures',
        );
      }
    },
  },
);

/** A port of a per-port policy. Istio checks only that it is there, so an odd number only warns. */
const policyPort = obj(
  { number: uint32 },
  {
    name: 'a port selector',
    refine: (v, c) => {
      const n = v.number ?? 0;
      if (n < 1 || n > 65535) c.warn(`matches no port: ports are 1-65535, got ${n}`, 'number');
    },
  },
);

const portTrafficPolicy = obj(
  { port: policyPort, loadBalancer, connectionPool, outlierDetection, tls: clientTls },
  {
    name: 'a port traffic policy',
    required: ['port'],
    refine: (v, c) => {
      if (
        v.loadBalancer === undefined &&
        v.connectionPool === undefined &&
        v.outlierDetection === undefined &&
        v.tls === undefined
      ) {
        c.error('must set at least one of loadBalancer, connectionPool, outlierDetection, tls');
        return;
      }
      checkFailoverNeedsOutlier(v, c);
    },
  },
);

const tunnel = obj(
  {
    protocol: str({
      refine: (v, c) => {
        if (v !== '' && v !== 'CONNECT' && v !== 'POST')
          c.error(`must be CONNECT or POST, got ${JSON.stringify(v)}`);
      },
    }),
    targetHost: str({
      refine: (v, c) => {
        const problem = ipOrHostProblem(v);
        if (problem !== undefined) c.error(problem);
      },
    }),
    targetPort: int({ min: 1, max: 65535 }),
  },
  { name: 'a tunnel setting', required: ['targetHost', 'targetPort'] },
);

const retryBudget = obj({
  percent: num({ min: 0, max: 100 }),
  minRetryConcurrency: uint32,
  budgetInterval: duration(),
});

/** Istio's TrafficPolicy: at least one setting; tunnel and proxyProtocol exclude each other. */
export const trafficPolicy = obj(
  {
    loadBalancer,
    connectionPool,
    outlierDetection,
    tls: clientTls,
    portLevelSettings: arr(portTrafficPolicy, { maxItems: 4096 }),
    tunnel,
    proxyProtocol: obj({ version: str({ enum: ['V1', 'V2'] }) }, { name: 'a PROXY protocol setting' }),
    retryBudget,
  },
  {
    name: 'a traffic policy',
    oneOf: [['tunnel', 'proxyProtocol']],
    refine: (v, c) => {
      const isEmpty =
        v.loadBalancer === undefined &&
        v.connectionPool === undefined &&
        v.outlierDetection === undefined &&
        v.tls === undefined &&
        (v.portLevelSettings === undefined || v.portLevelSettings.length === 0) &&
        v.tunnel === undefined &&
        v.proxyProtocol === undefined &&
        v.retryBudget === undefined;
      if (isEmpty) {
        c.error('must set at least one setting, or be left out');
        return;
      }
      checkFailoverNeedsOutlier(v, c);
    },
  },
);

export type TrafficPolicy = Infer<typeof trafficPolicy>;
export type PortTrafficPolicy = Infer<typeof portTrafficPolicy>;
export type ConnectionPoolSettings = Infer<typeof connectionPool>;
export type OutlierDetection = Infer<typeof outlierDetection>;
export type TunnelSettings = Infer<typeof tunnel>;
export type { ClientTLSSettings } from './client-tls.ts';
export type {
  ConsistentHashLB,
  LoadBalancerSettings,
  LocalityLoadBalancerSetting,
  ZoneAwareLoadBalancerSetting,
} from './load-balancer.ts';

/** Failover moves traffic away from unhealthy endpoints, which only outlier detection finds. */
function checkFailoverNeedsOutlier(
  v: { loadBalancer?: Infer<typeof loadBalancer>; outlierDetection?: unknown },
  c: Checker,
): void {
  if (v.outlierDetection !== undefined) return;
  for (const key of ['localityLbSetting', 'zoneAwareLbSetting'] as const) {
    const lb = v.loadBalancer?.[key];
    if (lb === undefined) continue;
    if ((lb.failover ?? []).length > 0 || (lb.failoverPriority ?? []).length > 0) {
      c.warn('failover has no effect without outlierDetection: add outlierDetection', 'loadBalancer', key);
    }
  }
}

/**
 * tcp.idleTimeout: 0 turns it off, so Istio checks it only from 1ms up (after truncating to whole
 * milliseconds, so "0.5ms" counts as 0).
 */
function idleTimeoutOrZero(): Schema<string> {
  const base = istioDuration();
  const syntax = duration();
  return {
    expected: base.expected,
    check(value, c) {
      if (!syntax.check(value, c)) return false;
      if ((parseDurationMs(value as string) as number) < 1) return true;
      return base.check(value, c);
    },
  };
}
