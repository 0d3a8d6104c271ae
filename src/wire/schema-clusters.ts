// The schema of clusters: load balancing, connection pools, outlier detection, endpoints.

import { schema as s } from '../config/core.ts';
import {
  exactlyOne,
  labels,
  name,
  positiveMs,
  protocol,
  servicePort,
  strings,
  tagged,
  traffic,
  UINT32_MAX,
  uint32,
} from './schema-common.ts';
import { lowerCaseName } from './schema-routes.ts';

// ── clusters ────────────────────────────────────────────────────────────────────────────────────

export const localityPolicy = s.obj({
  distribute: s.arr(s.obj({ from: name, to: s.record(uint32) }, { required: ['from', 'to'] })),
  failover: s.arr(s.obj({ from: name, to: name }, { required: ['from', 'to'] })),
  failoverPriority: s.arr(name),
});

export const hashKey = s.obj(
  {
    header: lowerCaseName,
    cookie: s.obj({ name, path: s.str(), ttlMs: s.int({ min: 0 }) }, { required: ['name'] }),
    sourceIp: s.bool(),
    queryParameter: name,
  },
  {
    refine: (h, c) => {
      exactlyOne<typeof h>(['header', 'cookie', 'sourceIp', 'queryParameter'])(h, c);
      if (h.sourceIp === false) c.error('must be true when set', 'sourceIp');
    },
  },
);

export const simpleLb = s.obj(
  { kind: s.str(), warmupMs: positiveMs, locality: localityPolicy },
  { required: ['kind'] },
);
export const loadBalancer = tagged(
  'kind',
  {
    ROUND_ROBIN: simpleLb,
    LEAST_REQUEST: simpleLb,
    RANDOM: simpleLb,
    PASSTHROUGH: simpleLb,
    RING_HASH: s.obj(
      {
        kind: s.str(),
        hashOn: hashKey,
        minimumRingSize: s.int({ min: 1, max: 8388608 }),
        locality: localityPolicy,
      },
      { required: ['kind', 'hashOn'] },
    ),
    MAGLEV: s.obj(
      {
        kind: s.str(),
        hashOn: hashKey,
        tableSize: s.int({ min: 1, max: 5000010 }),
        locality: localityPolicy,
      },
      { required: ['kind', 'hashOn'] },
    ),
  },
  'a load balancer',
);

export const connectionPool = s.obj(
  {
    maxConnections: uint32,
    maxPendingRequests: uint32,
    maxRequests: uint32,
    maxRequestsPerConnection: uint32,
    maxRetries: uint32,
    idleTimeoutMs: positiveMs,
  },
  {
    required: [
      'maxConnections',
      'maxPendingRequests',
      'maxRequests',
      'maxRequestsPerConnection',
      'maxRetries',
    ],
  },
);

export const outlierDetection = s.obj(
  {
    consecutive5xxErrors: uint32,
    consecutiveGatewayErrors: uint32,
    consecutiveLocalOriginFailures: uint32,
    splitExternalLocalOriginErrors: s.bool(),
    intervalMs: positiveMs,
    baseEjectionTimeMs: positiveMs,
    maxEjectionPercent: s.int({ min: 0, max: 100 }),
    minHealthPercent: s.int({ min: 0, max: 100 }),
  },
  {
    required: [
      'consecutive5xxErrors',
      'consecutiveGatewayErrors',
      'consecutiveLocalOriginFailures',
      'splitExternalLocalOriginErrors',
      'intervalMs',
      'baseEjectionTimeMs',
      'maxEjectionPercent',
      'minHealthPercent',
    ],
  },
);

export const endpoint = s.obj(
  {
    address: name,
    port: servicePort,
    spiffeId: s.str(),
    labels,
    workload: s.str(),
    locality: s.str(),
    weight: s.int({ min: 1, max: UINT32_MAX }),
    tunnelPort: servicePort,
  },
  { required: ['address', 'port', 'spiffeId', 'labels', 'workload', 'locality', 'weight'] },
);

export const cluster = s.obj(
  {
    name,
    service: name,
    port: servicePort,
    subset: name,
    protocol,
    traffic,
    lb: loadBalancer,
    connectTimeoutMs: positiveMs,
    tlsMode: s.str({ enum: ['ISTIO_MUTUAL', 'DISABLE', 'SIMPLE', 'MUTUAL'] as const }),
    originate: s.obj(
      {
        sni: name,
        caFile: name,
        certFile: name,
        keyFile: name,
        subjectAltNames: s.arr(name),
        insecureSkipVerify: s.bool(),
        unsupported: name,
      },
      { required: ['sni'] },
    ),
    connectionPool,
    outlierDetection,
    policyOrigin: s.obj(
      { destinationRule: name, levels: strings },
      { required: ['destinationRule', 'levels'] },
    ),
    missing: s.str({ minLength: 1 }),
    endpoints: s.arr(endpoint),
  },
  {
    required: [
      'name',
      'service',
      'port',
      'protocol',
      'traffic',
      'lb',
      'connectTimeoutMs',
      'tlsMode',
      'connectionPool',
      'endpoints',
    ],
    refine: (cl, c) => {
      if ((cl.tlsMode === 'SIMPLE' || cl.tlsMode === 'MUTUAL') && cl.policyOrigin === undefined) {
        c.error(`${cl.tlsMode} needs policyOrigin: the DestinationRule that set it`, 'tlsMode');
      }
      if ((cl.tlsMode === 'SIMPLE' || cl.tlsMode === 'MUTUAL') !== (cl.originate !== undefined)) {
        c.error('originate is set exactly when tlsMode is SIMPLE or MUTUAL', 'originate');
      }
      const o = cl.originate;
      if (
        cl.tlsMode === 'MUTUAL' &&
        o?.unsupported === undefined &&
        (o?.certFile === undefined || o.keyFile === undefined)
      ) {
        c.error('MUTUAL needs originate.certFile and originate.keyFile', 'originate');
      }
    },
  },
);
