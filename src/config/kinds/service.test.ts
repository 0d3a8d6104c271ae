import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding, type Resource } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';
import { meshProtocolOf, type ServiceSpec, service, targetPortOf } from './service.ts';

function doc(spec: string, name = 'reviews'): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
spec:${spec}
`;
}

const good: AcceptCase[] = [
  {
    name: 'one unnamed port with a selector',
    yaml: doc('\n  selector:\n    app: reviews\n  ports:\n  - port: 9080'),
  },
  {
    name: 'named ports with target port names, appProtocol, and one number on TCP and UDP',
    yaml: doc(`
  selector:
    app: dns
  ports:
  - name: http-web
    port: 80
    targetPort: web
    appProtocol: kubernetes.io/h2c
  - name: dns-tcp
    port: 53
    protocol: TCP
    targetPort: 5353
  - name: dns-udp
    port: 53
    protocol: UDP
  - name: sctp
    port: 9999
    protocol: SCTP`),
  },
  { name: 'a headless service without ports', yaml: doc('\n  clusterIP: None\n  selector:\n    app: db') },
  {
    name: 'an ExternalName service without ports',
    yaml: doc('\n  type: ExternalName\n  externalName: db.example.com.'),
  },
  {
    name: 'targetPort 0, which means the port itself',
    yaml: doc('\n  ports:\n  - port: 80\n    targetPort: 0'),
  },
  {
    name: 'every other ServiceSpec field of real manifests, and a status',
    yaml: `${doc(`
  type: LoadBalancer
  selector:
    app: gw
  ports:
  - name: https
    port: 443
    targetPort: 8443
    nodePort: 30443
  clusterIP: 10.96.0.10
  clusterIPs: ["10.96.0.10", "fd00::10"]
  externalIPs: ["203.0.113.7"]
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800
  loadBalancerIP: 203.0.113.8
  loadBalancerSourceRanges: ["10.0.0.0/8"]
  loadBalancerClass: example.com/lb
  allocateLoadBalancerNodePorts: true
  externalTrafficPolicy: Local
  internalTrafficPolicy: Cluster
  healthCheckNodePort: 30000
  publishNotReadyAddresses: false
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: PreferDualStack
  trafficDistribution: PreferClose`)}status:
  loadBalancer: {}
`,
  },
];

const bad: RefuseCase[] = [
  {
    name: 'a port without a number',
    yaml: doc('\n  ports:\n  - name: http'),
    path: 'spec.ports[0].port',
    message: /is required/,
  },
  {
    name: 'port 0',
    yaml: doc('\n  ports:\n  - port: 0'),
    path: 'spec.ports[0].port',
    message: /must be between 1 and 65535, got 0/,
  },
  {
    name: 'a port above 65535',
    yaml: doc('\n  ports:\n  - port: 70000'),
    path: 'spec.ports[0].port',
    message: /between 1 and 65535, got 70000/,
  },
  {
    name: 'an unnamed port when there are several',
    yaml: doc('\n  ports:\n  - name: http\n    port: 80\n  - port: 81'),
    path: 'spec.ports[1].name',
    message: /is required when a service has more than one port/,
  },
  {
    name: 'two ports with one name',
    yaml: doc('\n  ports:\n  - name: http\n    port: 80\n  - name: http\n    port: 81'),
    path: 'spec.ports[1].name',
    message: /duplicate port name "http"/,
  },
  {
    name: 'a port name that is not a DNS label',
    yaml: doc('\n  ports:\n  - name: HTTP\n    port: 80'),
    path: 'spec.ports[0].name',
    message: /must be a DNS-1123 label/,
  },
  {
    name: 'one port number twice on one protocol',
    yaml: doc('\n  ports:\n  - name: a\n    port: 80\n  - name: b\n    port: 80\n    protocol: TCP'),
    path: 'spec.ports[1]',
    message: /duplicate port 80\/TCP/,
  },
  {
    name: 'an application protocol as the transport protocol',
    yaml: doc('\n  ports:\n  - port: 80\n    protocol: HTTP'),
    path: 'spec.ports[0].protocol',
    message: /must be one of TCP, UDP, SCTP, got "HTTP"/,
  },
  {
    name: 'a target port name that is not an IANA service name',
    yaml: doc('\n  ports:\n  - port: 80\n    targetPort: http_port'),
    path: 'spec.ports[0].targetPort',
    message: /IANA service name/,
  },
  {
    name: 'a target port name longer than 15 characters',
    yaml: doc('\n  ports:\n  - port: 80\n    targetPort: abcdefghijklmnop'),
    path: 'spec.ports[0].targetPort',
    message: /at most 15/,
  },
  {
    name: 'a target port above 65535',
    yaml: doc('\n  ports:\n  - port: 80\n    targetPort: 65536'),
    path: 'spec.ports[0].targetPort',
    message: /between 0 and 65535/,
  },
  {
    name: 'an appProtocol that is not a qualified name',
    yaml: doc('\n  ports:\n  - port: 80\n    appProtocol: "http 2"'),
    path: 'spec.ports[0].appProtocol',
    message: /must be a protocol name such as "http" or "kubernetes.io\/h2c"/,
  },
  {
    name: 'a ClusterIP service without ports',
    yaml: doc('\n  selector:\n    app: a'),
    path: 'spec.ports',
    message: /must list at least one port/,
  },
  {
    name: 'an ExternalName service without externalName',
    yaml: doc('\n  type: ExternalName'),
    path: 'spec.externalName',
    message: /is required when type is ExternalName/,
  },
  {
    name: 'a nodePort on a ClusterIP service',
    yaml: doc('\n  ports:\n  - port: 80\n    nodePort: 30080'),
    path: 'spec.ports[0].nodePort',
    message: /may not be used when type is 'ClusterIP'/,
  },
  {
    name: 'a selector value that is not a label value',
    yaml: doc('\n  selector:\n    app: "a b"\n  ports:\n  - port: 80'),
    path: 'spec.selector.app',
    message: /label value must be/,
  },
  {
    name: 'a name that is not a DNS-1035 label',
    yaml: doc('\n  ports:\n  - port: 80', '1reviews'),
    path: 'metadata.name',
    message: /must be a DNS-1035 label/,
  },
  {
    name: 'no spec',
    yaml: doc('').replace('spec:\n', ''),
    path: 'spec',
    message: /is required/,
  },
  {
    name: 'an unknown type',
    yaml: doc('\n  type: Internal\n  ports:\n  - port: 80'),
    path: 'spec.type',
    message: /one of ClusterIP, NodePort, LoadBalancer, ExternalName/,
  },
  {
    name: 'a clusterIP that is not an address',
    yaml: doc('\n  clusterIP: auto\n  ports:\n  - port: 80'),
    path: 'spec.clusterIP',
    message: /must be empty, "None" or an IP address/,
  },
  {
    name: 'sessionAffinityConfig when affinity is not ClientIP',
    yaml: doc('\n  ports:\n  - port: 80\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 10'),
    path: 'spec.sessionAffinityConfig',
    message: /must only be set when sessionAffinity is ClientIP/,
  },
  {
    name: 'a misspelt field',
    yaml: doc('\n  port:\n  - port: 80'),
    path: 'spec.port',
    message: /unknown field \(did you mean "ports"\?\)/,
  },
];

describe('Service', () => {
  runKindTable('Service', { good, bad });

  it('Service: prints a duplicate port name with its file line, object and field', () => {
    const r = load(doc('\n  ports:\n  - name: http\n    port: 80\n  - name: http\n    port: 81'));
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:10 Service default/reviews: spec.ports[1].name: duplicate port name "http"',
    ]);
  });

  it('Service: gives the target port, defaulting to the port, and the mesh protocol', () => {
    assert.equal(targetPortOf({ port: 80 }), 80);
    assert.equal(targetPortOf({ port: 80, targetPort: 0 }), 80);
    assert.equal(targetPortOf({ port: 80, targetPort: '' }), 80);
    assert.equal(targetPortOf({ port: 80, targetPort: 'web' }), 'web');
    assert.equal(meshProtocolOf({ port: 80, name: 'grpc-api' }), 'GRPC');
    assert.equal(meshProtocolOf({ port: 3306, name: 'db' }), 'TCP');
  });

  it('Service: prints type, ports and, wide, the selector as kubectl does', () => {
    const r: Resource<ServiceSpec> = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'gw', namespace: 'default' },
      spec: {
        type: 'NodePort',
        selector: { app: 'gw', tier: 'edge' },
        ports: [
          { name: 'http', port: 80, nodePort: 30080 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      },
    };
    const columns = (service.printerColumns ?? []).map((col) => [
      col.header,
      col.value(r),
      col.wide ?? false,
    ]);
    assert.deepEqual(columns, [
      ['Type', 'NodePort', false],
      ['Port(s)', '80:30080/TCP,53/UDP', false],
      ['Selector', 'app=gw,tier=edge', true],
    ]);
  });
});
