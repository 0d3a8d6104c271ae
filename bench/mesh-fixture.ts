// Generates a realistic mesh config of any size for benchmarks: per service a Service,
// VirtualService, DestinationRule, AuthorizationPolicy and WorkloadEntry, as multi-document YAML.

/** A realistic mix: for each service a Service, VirtualService, DestinationRule, AuthorizationPolicy, WorkloadEntry. */
export function generateMesh(count: number): string {
  const docs: string[] = [];
  for (let i = 0; docs.length < count; i++) {
    const n = `svc-${i}`;
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${n}, namespace: bench, labels: {app: ${n}}}
spec:
  selector: {app: ${n}}
  ports:
  - {name: http, port: 8080, targetPort: 9080}
  - {name: grpc-admin, port: 9090}`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${n}, namespace: bench}
spec:
  hosts: [${n}]
  http:
  - name: canary
    match:
    - headers: {end-user: {exact: tester}}
      uri: {prefix: /api/}
    route:
    - destination: {host: ${n}, subset: v2}
  - route:
    - destination: {host: ${n}, subset: v1}
      weight: 90
    - destination: {host: ${n}, subset: v2}
      weight: 10
    timeout: 5s
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,connect-failure"}`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${n}, namespace: bench}
spec:
  host: ${n}
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 50}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}`);
    docs.push(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${n}, namespace: bench}
spec:
  selector: {matchLabels: {app: ${n}}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/bench/sa/client]}}]
    to: [{operation: {methods: [GET, POST], paths: [/api/*]}}]`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${n}-v1, namespace: bench}
spec:
  address: 10.0.${(i >> 8) & 255}.${i & 255}
  labels: {app: ${n}, version: v1}
  serviceAccount: ${n}`);
  }
  return docs.slice(0, count).join('\n---\n') + '\n';
}
