// Micro-benchmark of authorization on the request path: µs per decision for the 100
// AuthorizationPolicies of bench:proxy's alder-authz pair (50 DENY, 49 ALLOW for other callers, the
// ALLOW that matches last), an HTTP request and a TCP connection, compiled as the control plane and
// the proxy compile them. Run: node bench/authz-decide.ts [--help]

import { authorizationFor } from '../src/compile/authorization.ts';
import { indexConfig } from '../src/compile/config-index.ts';
import { loadSources } from '../src/config/index.ts';
import {
  type AuthzAttributes,
  compileAuthz,
  connectionPlans,
  decide,
  decideWith,
} from '../src/proxy/authz/index.ts';
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
  jwtClaims: undefined,
  // A new object per request, as the proxy makes one.
  http: http ? { method: 'POST', path: '/', host: 'b.default.svc.cluster.local:1234', headers } : undefined,
});

/** Runs `decision` n times after a warm-up; µs per call. */
function time(decision: () => boolean, n = 500_000): number {
  for (let i = 0; i < 50_000; i++) decision();
  const started = performance.now();
  for (let i = 0; i < n; i++) decision();
  return ((performance.now() - started) * 1000) / n;
}

// A connection's requests: the plans are cut down once for its peer, address and port, as the
// proxy does; a TCP connection is one decision.
const plans = connectionPlans(authz, attributes(true));
const rows: [string, number][] = [
  ['HTTP request, on its connection', time(() => decideWith(plans, attributes(true)).allowed)],
  ['HTTP request, whole plan', time(() => decide(authz, attributes(true)).allowed)],
  [
    "cutting a connection's plans",
    time(() => connectionPlans(authz, attributes(true)).enforced.deny.length >= 0, 20_000),
  ],
  ['TCP connection', time(() => decide(authz, attributes(false)).allowed)],
];
const rules = plans.enforced.deny.length + plans.enforced.allow.length;
const all = authz.http.enforced.deny.length + authz.http.enforced.allow.length;
process.stdout.write(
  `${policies.length} policies (${all} HTTP rules; ${rules} left for a connection from default/a)\n`,
);
for (const [name, us] of rows) process.stdout.write(`${name.padEnd(34)} ${us.toFixed(2)} µs\n`);
