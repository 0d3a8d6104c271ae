// Micro-benchmark of authorization on the request path: µs per decision for the 100
// AuthorizationPolicies of bench:proxy's alder-authz pair (50 DENY, 49 ALLOW for other callers, the
// ALLOW that matches last), an HTTP request and a TCP connection, compiled as the control plane and
// the proxy compile them. Run: node bench/authz-decide.ts [--help]

import { authorizationFor } from '../src/compile/authorization.ts';
import { indexConfig } from '../src/compile/config-index.ts';
import { loadSources } from '../src/config/index.ts';
import { type AuthzAttributes, compileAuthz, decide } from '../src/proxy/authz/index.ts';
import { authorizationConfig } from './proxy/alder.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    'Usage: node bench/authz-decide.ts\nµs per authorization decision with 100 policies in force.\n',
  );
  process.exit(0);
}

const loaded = loadSources([{ name: 'authorization.yaml', text: authorizationConfig() }]);
const policies = authorizationFor(indexConfig(loaded.resources.map((r) => r.resource)), {
  namespace: 'default',
  labels: { app: 'b' },
});
const authz = compileAuthz(policies);
// The headers a request from bench:proxy's load generator carries once proxy A forwarded it.
const headers = [
  ...['host', 'b.default.svc.cluster.local:1234', 'content-length', '1024'],
  ...['x-forwarded-for', '127.0.0.1', 'x-request-id', '8f7c1c1e-0000-4000-8000-000000000000'],
  ...['x-forwarded-proto', 'http', 'x-forwarded-client-cert', 'By=spiffe://cluster.local/ns/default/sa/b'],
];
const attributes = (http: boolean): AuthzAttributes => ({
  principal: 'cluster.local/ns/default/sa/a',
  sourceIp: '127.0.0.1',
  remoteIp: '127.0.0.1',
  destinationIp: '127.0.0.1',
  destinationPort: 1234,
  sni: undefined,
  // A new object per request, as the proxy makes one.
  http: http ? { method: 'POST', path: '/', host: 'b.default.svc.cluster.local:1234', headers } : undefined,
});

for (const [name, http] of [
  ['HTTP request', true],
  ['TCP connection', false],
] as const) {
  let allowed = 0;
  for (let i = 0; i < 50_000; i++) if (decide(authz, attributes(http)).allowed) allowed++;
  const n = 500_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) if (decide(authz, attributes(http)).allowed) allowed++;
  const us = ((performance.now() - started) * 1000) / n;
  process.stdout.write(
    `${name.padEnd(16)} ${policies.length} policies: ${us.toFixed(2)} µs per decision (${allowed} allowed)\n`,
  );
}
