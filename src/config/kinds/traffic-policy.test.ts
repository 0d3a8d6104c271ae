import { describe } from 'node:test';
import { type AcceptCase, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A DestinationRule in namespace `default` whose trafficPolicy is `policy`, indented by four spaces. */
function policy(text: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  trafficPolicy:
${text}
`;
}

const TP = 'spec.trafficPolicy';

const good: AcceptCase[] = [
  {
    name: 'connection pools, outlier detection, TLS and per-port settings together',
    yaml: policy(`    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
        maxConnectionDuration: 1h
        idleTimeout: 0s
        tcpKeepalive:
          probes: 3
          time: 7200s
          interval: 75s
      http:
        http1MaxPendingRequests: 10
        http2MaxRequests: 1000
        maxRequestsPerConnection: 10
        maxRetries: 3
        idleTimeout: 1.5s
        h2UpgradePolicy: UPGRADE
        maxConcurrentStreams: 100
        http2KeepAlive:
          interval: 10s
          timeout: 2s
    outlierDetection:
      consecutive5xxErrors: 7
      consecutiveGatewayErrors: 3
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 2
      interval: 5m
      baseEjectionTime: 15m
      maxEjectionPercent: 100
      minHealthPercent: 0
      outlierDetectionHttpErrorCodes: [500, 503]
    tls:
      mode: SIMPLE
      caCertificates: /etc/certs/ca.pem
      subjectAltNames: [reviews.example.com]
      sni: reviews.example.com
    portLevelSettings:
    - port:
        number: 80
      loadBalancer:
        simple: LEAST_REQUEST
      tls:
        mode: DISABLE`),
  },
  {
    name: 'cookie hashing on a ring',
    yaml: policy(`    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          path: /
          ttl: 0s
          attributes:
          - name: SameSite
            value: Strict
          - name: Secure
        ringHash:
          minimumRingSize: 1024`),
  },
  {
    name: 'maglev with a prime table size',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev:\n          tableSize: 65537',
    ),
  },
  {
    name: 'locality weights that add up to 100',
    yaml: policy(`    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: us-west/zone1/*
          to:
            "us-west/zone1/*": 80
            "us-west/zone2/*": 20
        - from: us-east/*
          to:
            "us-east/*": 100`),
  },
  {
    name: 'locality failover with outlier detection',
    yaml: policy(`    loadBalancer:
      localityLbSetting:
        failover:
        - from: us-east
          to: eu-west
        failoverPriority: [topology.istio.io/network]
    outlierDetection:
      consecutive5xxErrors: 1`),
  },
  {
    name: 'zone-aware load balancing',
    yaml: policy(
      '    loadBalancer:\n      zoneAwareLbSetting:\n        enabled: true\n        minClusterSize: 3\n    outlierDetection:\n      interval: 1s',
    ),
  },
  {
    name: 'a slow-start warmup',
    yaml: policy(
      '    loadBalancer:\n      warmup:\n        duration: 60s\n        minimumPercent: 10\n        aggression: 1.5',
    ),
  },
  {
    name: 'an HTTP CONNECT tunnel',
    yaml: policy('    tunnel:\n      protocol: CONNECT\n      targetHost: 10.0.0.1\n      targetPort: 8443'),
  },
  { name: 'the PROXY protocol', yaml: policy('    proxyProtocol:\n      version: V2') },
  {
    name: 'a retry budget',
    yaml: policy('    retryBudget:\n      percent: 20\n      minRetryConcurrency: 3'),
  },
  {
    name: 'the deprecated minimumRingSize, with a warning',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        httpHeaderName: x-user\n        minimumRingSize: 1024',
    ),
    warning: {
      path: `${TP}.loadBalancer.consistentHash.minimumRingSize`,
      message: /deprecated: use ringHash/,
    },
  },
  {
    name: 'the deprecated consecutiveErrors, with a warning',
    yaml: policy('    outlierDetection:\n      consecutiveErrors: 5'),
    warning: { path: `${TP}.outlierDetection.consecutiveErrors`, message: /deprecated/ },
  },
  {
    name: 'failover without outlier detection, with a warning',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: us-east\n          to: eu-west',
    ),
    warning: { path: `${TP}.loadBalancer.localityLbSetting`, message: /without outlierDetection/ },
  },
  {
    name: 'utilization-based load balancing, with a not-implemented warning',
    yaml: policy('    loadBalancer:\n      backendUtilization:\n        weightUpdatePeriod: 1s'),
    warning: { path: `${TP}.loadBalancer.backendUtilization`, message: /not implemented/ },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'an empty traffic policy',
    yaml: policy('    {}'),
    path: TP,
    message: /must set at least one setting/,
  },
  {
    name: 'a tunnel together with the PROXY protocol',
    yaml: policy(
      '    tunnel:\n      targetHost: a.b\n      targetPort: 80\n    proxyProtocol:\n      version: V1',
    ),
    path: TP,
    message: /only one of tunnel, proxyProtocol may be set/,
  },
  {
    name: 'a tunnel with an unknown protocol and a wildcard host',
    yaml: policy('    tunnel:\n      protocol: GET\n      targetHost: "*.b.com"\n      targetPort: 80'),
    path: `${TP}.tunnel.protocol`,
    message: /must be CONNECT or POST, got "GET"/,
    count: 2,
  },
  {
    name: 'a simple and a consistent-hash algorithm together',
    yaml: policy('    loadBalancer:\n      simple: RANDOM\n      consistentHash:\n        useSourceIp: true'),
    path: `${TP}.loadBalancer`,
    message:
      /only one of simple, consistentHash, backendUtilization may be set, got simple and consistentHash/,
  },
  {
    name: 'an unknown simple algorithm',
    yaml: policy('    loadBalancer:\n      simple: ROUND_ROBBIN'),
    path: `${TP}.loadBalancer.simple`,
    message: /must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST/,
  },
  {
    name: 'two hash keys',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        httpHeaderName: x-user\n        useSourceIp: true',
    ),
    path: `${TP}.loadBalancer.consistentHash`,
    message: /only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName/,
  },
  {
    name: 'a hash cookie without a name',
    yaml: policy('    loadBalancer:\n      consistentHash:\n        httpCookie:\n          ttl: 10s'),
    path: `${TP}.loadBalancer.consistentHash.httpCookie.name`,
    message: /is required/,
  },
  {
    name: 'a cookie attribute given twice',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: u\n          attributes:\n          - name: Secure\n          - name: Secure',
    ),
    path: `${TP}.loadBalancer.consistentHash.httpCookie.attributes[1].name`,
    message: /duplicate cookie attribute "Secure"/,
  },
  {
    name: 'a maglev table size that is not prime',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev:\n          tableSize: 1000',
    ),
    path: `${TP}.loadBalancer.consistentHash.maglev.tableSize`,
    message: /must be a prime number, got 1000/,
  },
  {
    name: 'minimumRingSize next to ringHash',
    yaml: policy(
      '    loadBalancer:\n      consistentHash:\n        minimumRingSize: 8\n        ringHash:\n          minimumRingSize: 8',
    ),
    path: `${TP}.loadBalancer.consistentHash.minimumRingSize`,
    message: /must not be set with ringHash or maglev/,
  },
  {
    name: 'locality distribute and failover together',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 100\n        failover:\n        - from: a\n          to: b',
    ),
    path: `${TP}.loadBalancer.localityLbSetting`,
    message: /only one of distribute and failover may be set/,
  },
  {
    name: 'locality weights that add up to 90',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 50\n            c: 40',
    ),
    path: `${TP}.loadBalancer.localityLbSetting.distribute[0].to`,
    message: /weights must add up to 100, got 90/,
  },
  {
    name: 'a locality weight of 0',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            "us-west/*": 0',
    ),
    path: `${TP}.loadBalancer.localityLbSetting.distribute[0].to["us-west/*"]`,
    message: /locality weight must be between 1 and 100, got 0/,
  },
  {
    name: 'a source locality that overlaps an earlier one',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: us-west/*\n          to:\n            a: 100\n        - from: us-west/zone1\n          to:\n            a: 100',
    ),
    path: `${TP}.loadBalancer.localityLbSetting.distribute[1].from`,
    message: /locality "us-west\/zone1" overlaps one listed before it/,
  },
  {
    name: 'a failover to the same region',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: us-east\n          to: us-east\n    outlierDetection:\n      interval: 1s',
    ),
    path: `${TP}.loadBalancer.localityLbSetting.failover[0]`,
    message: /must be different regions/,
  },
  {
    name: 'a topology label in failoverPriority next to failover',
    yaml: policy(
      '    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: a\n          to: b\n        failoverPriority: [topology.kubernetes.io/region]\n    outlierDetection:\n      interval: 1s',
    ),
    path: `${TP}.loadBalancer.localityLbSetting.failoverPriority[0]`,
    message: /must not be the topology label/,
  },
  {
    name: 'a warmup without duration',
    yaml: policy('    loadBalancer:\n      warmup:\n        minimumPercent: 5'),
    path: `${TP}.loadBalancer.warmup.duration`,
    message: /is required/,
  },
  {
    name: 'a warmup aggression of 0',
    yaml: policy('    loadBalancer:\n      warmup:\n        duration: 10s\n        aggression: 0'),
    path: `${TP}.loadBalancer.warmup.aggression`,
    message: /must be greater than 0, got 0/,
  },
  {
    name: 'an empty connection pool',
    yaml: policy('    connectionPool: {}'),
    path: `${TP}.connectionPool`,
    message: /must set tcp or http/,
  },
  {
    name: 'a negative maxRetries',
    yaml: policy('    connectionPool:\n      http:\n        maxRetries: -1'),
    path: `${TP}.connectionPool.http.maxRetries`,
    message: /must be between 0 and 2147483647, got -1/,
  },
  {
    name: 'useClientProtocol with h2UpgradePolicy UPGRADE',
    yaml: policy(
      '    connectionPool:\n      http:\n        h2UpgradePolicy: UPGRADE\n        useClientProtocol: true',
    ),
    path: `${TP}.connectionPool.http.useClientProtocol`,
    message: /must not be true when h2UpgradePolicy is UPGRADE/,
  },
  {
    name: 'an HTTP/2 keepalive without timeout',
    yaml: policy('    connectionPool:\n      http:\n        http2KeepAlive:\n          interval: 10s'),
    path: `${TP}.connectionPool.http.http2KeepAlive.timeout`,
    message: /is required/,
  },
  {
    name: 'a connect timeout under 1ms',
    yaml: policy('    connectionPool:\n      tcp:\n        connectTimeout: 500us'),
    path: `${TP}.connectionPool.tcp.connectTimeout`,
    message: /must be at least 1ms/,
  },
  {
    name: 'an idle timeout finer than a millisecond',
    yaml: policy('    connectionPool:\n      tcp:\n        idleTimeout: 1.0005s'),
    path: `${TP}.connectionPool.tcp.idleTimeout`,
    message: /whole number of milliseconds/,
  },
  {
    name: 'local-origin failures without splitting them out',
    yaml: policy('    outlierDetection:\n      consecutiveLocalOriginFailures: 5'),
    path: `${TP}.outlierDetection.consecutiveLocalOriginFailures`,
    message: /splitExternalLocalOriginErrors is true/,
  },
  {
    name: 'a maxEjectionPercent above 100',
    yaml: policy('    outlierDetection:\n      maxEjectionPercent: 120'),
    path: `${TP}.outlierDetection.maxEjectionPercent`,
    message: /must be between 0 and 100, got 120/,
  },
  {
    name: 'an outlier HTTP code outside 100-599',
    yaml: policy('    outlierDetection:\n      outlierDetectionHttpErrorCodes: [503, 600]'),
    path: `${TP}.outlierDetection.outlierDetectionHttpErrorCodes[1]`,
    message: /must be between 100 and 599, got 600/,
  },
  {
    name: 'a per-port policy without port',
    yaml: policy('    portLevelSettings:\n    - tls:\n        mode: ISTIO_MUTUAL'),
    path: `${TP}.portLevelSettings[0].port`,
    message: /is required/,
  },
  {
    name: 'a per-port policy with nothing but the port',
    yaml: policy('    portLevelSettings:\n    - port:\n        number: 80'),
    path: `${TP}.portLevelSettings[0]`,
    message: /must set at least one of loadBalancer, connectionPool, outlierDetection, tls/,
  },
  {
    name: 'an unknown PROXY protocol version',
    yaml: policy('    proxyProtocol:\n      version: V3'),
    path: `${TP}.proxyProtocol.version`,
    message: /must be one of V1, V2/,
  },
];

describe('TrafficPolicy', () => {
  runKindTable('TrafficPolicy', { good, bad });
});
