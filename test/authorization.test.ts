// AuthorizationPolicy through real proxies: workload `web` serves HTTP on 8080 and TCP on 9000 (an
// echo), and two callers, `client` and `other` (each its own service account), reach it through their
// proxies with mTLS, by curl through the forward proxy and by a raw TCP connection to a Sidecar
// egress port. Each case applies its policies to the running mesh (the config folder changes, every
// proxy applies it) and checks what each caller gets: 200 or Envoy's 403 `RBAC: access denied`, the
// echo or a closed connection; denials are logged with the policy and rule that decided.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { greeterClient, grpcErrorText, startGreeter } from './grpc-js-kit.ts';
import { alder, waitForLog } from './harness.ts';
import { curl, type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import { service, sidecarEgress, sidecarIngress, sidecarPort, workloadEntry, yamlDocs } from './mesh-yaml.ts';

const WEB = '127.0.161.1';
const CLIENT = '127.0.161.2';
const OTHER = '127.0.161.3';
const CALLERS = { client: CLIENT, other: OTHER } as const;
type Caller = keyof typeof CALLERS;

const HTTP = sidecarPort(8080, 'HTTP');
const TCP = sidecarPort(9000, 'TCP');
const GRPC = sidecarPort(9090, 'GRPC');

function policy(name: string, spec: string, annotations = ''): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: shop${annotations === '' ? '' : `, annotations: ${annotations}`}}
spec:
${spec
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

interface HttpCheck {
  from: Caller;
  path: string;
  method?: string;
  headers?: string[];
  want: 200 | 403;
}

interface Case {
  name: string;
  policies: string[];
  http?: HttpCheck[];
  tcp?: { from: Caller; want: 'echo' | 'closed' }[];
  /** A log line the web proxy writes: its msg, and the policy and rule it names. */
  logged?: { msg: string; policy: string; rule: number | string };
}

const selectWeb = 'selector: {matchLabels: {app: web}}';

const cases: Case[] = [
  {
    name: 'no ALLOW or DENY policy: everything allowed',
    policies: [],
    http: [{ from: 'other', path: '/any', want: 200 }],
    tcp: [{ from: 'other', want: 'echo' }],
  },
  {
    name: 'spec {} (ALLOW with no rules) denies every request and connection in its namespace',
    policies: [policy('allow-nothing', '{}')],
    http: [
      { from: 'client', path: '/', want: 403 },
      { from: 'other', path: '/x', want: 403 },
    ],
    tcp: [{ from: 'client', want: 'closed' }],
    logged: { msg: 'authorization denied', policy: 'shop/allow-nothing', rule: 'no ALLOW policy matched' },
  },
  {
    name: 'principals: only the named caller; notPrincipals: all but it',
    policies: [
      policy(
        'only-client',
        `${selectWeb}\nrules:\n- from:\n  - source: {principals: ["cluster.local/ns/shop/sa/client"]}`,
      ),
    ],
    http: [
      { from: 'client', path: '/', want: 200 },
      { from: 'other', path: '/', want: 403 },
    ],
    tcp: [
      { from: 'client', want: 'echo' },
      { from: 'other', want: 'closed' },
    ],
  },
  {
    name: 'DENY notPrincipals, namespaces and serviceAccounts',
    policies: [
      policy(
        'deny-not-client',
        `${selectWeb}\naction: DENY\nrules:\n- from:\n  - source: {notPrincipals: ["*/sa/client"]}`,
      ),
      policy('ns-shop', `${selectWeb}\nrules:\n- from:\n  - source: {namespaces: ["shop"]}`),
      policy('sa-other', `${selectWeb}\nrules:\n- from:\n  - source: {serviceAccounts: ["shop/other"]}`),
    ],
    http: [
      { from: 'client', path: '/', want: 200 },
      { from: 'other', path: '/', want: 403 },
    ],
    logged: { msg: 'authorization denied', policy: 'shop/deny-not-client', rule: 0 },
  },
  {
    name: 'to: methods, paths (prefix, suffix, template), hosts and ports',
    policies: [
      policy(
        'operations',
        `${selectWeb}
rules:
- to:
  - operation: {methods: ["GET"], paths: ["/public/*", "*.css", "/users/{*}/profile"], hosts: ["WEB.shop"], ports: ["8080"]}
- to:
  - operation: {methods: ["POST"], notPaths: ["/admin*"]}`,
      ),
    ],
    http: [
      { from: 'client', path: '/public/a', want: 200 },
      { from: 'client', path: '/public/a?x=1', want: 200 },
      { from: 'client', path: '/style.css', want: 200 },
      { from: 'client', path: '/users/7/profile', want: 200 },
      { from: 'client', path: '/users/7/8/profile', want: 403 },
      { from: 'client', path: '/private', want: 403 },
      { from: 'client', path: '/public/a', method: 'DELETE', want: 403 },
      { from: 'client', path: '/form', method: 'POST', want: 200 },
      { from: 'client', path: '/admin/x', method: 'POST', want: 403 },
      // Policies see the normalized path: dot-segments and encoded characters cannot step around them.
      { from: 'client', path: '/form/../admin/x', method: 'POST', want: 403 },
      { from: 'client', path: '/%61dmin/x', method: 'POST', want: 403 },
      { from: 'client', path: '/%70ublic/a', want: 200 },
    ],
    // Every rule uses HTTP-only fields: on TCP no ALLOW rule can apply.
    tcp: [{ from: 'client', want: 'closed' }],
  },
  {
    name: 'when: request headers, source.principal, source.namespace, source.ip, destination.port',
    policies: [
      policy(
        'conditions',
        `${selectWeb}
rules:
- when:
  - {key: "request.headers[x-user]", values: ["alice", "bob*"]}
  - {key: source.principal, values: ["cluster.local/ns/shop/sa/client"]}
  - {key: source.namespace, values: ["shop"]}
  - {key: source.ip, values: ["127.0.0.0/8"], notValues: ["10.0.0.0/8"]}
  - {key: destination.port, values: ["8080"]}`,
      ),
    ],
    http: [
      { from: 'client', path: '/', headers: ['x-user: alice'], want: 200 },
      { from: 'client', path: '/', headers: ['x-user: bobby'], want: 200 },
      { from: 'client', path: '/', headers: ['x-user: mallory'], want: 403 },
      { from: 'client', path: '/', want: 403 },
      { from: 'other', path: '/', headers: ['x-user: alice'], want: 403 },
    ],
  },
  {
    name: 'DENY wins over ALLOW; ipBlocks',
    policies: [
      policy('allow-loopback', `${selectWeb}\nrules:\n- from:\n  - source: {ipBlocks: ["127.0.0.0/8"]}`),
      policy('deny-admin', `${selectWeb}\naction: DENY\nrules:\n- to:\n  - operation: {paths: ["/admin"]}`),
    ],
    http: [
      { from: 'client', path: '/', want: 200 },
      { from: 'client', path: '/admin', want: 403 },
    ],
    // A DENY rule with HTTP-only fields loses them on TCP and denies every connection (Istio).
    tcp: [{ from: 'client', want: 'closed' }],
    logged: { msg: 'authorization denied', policy: 'shop/deny-admin', rule: 0 },
  },
  {
    name: 'TCP: ports and principals allow the connection; an ALLOW rule on HTTP fields does not',
    policies: [
      policy(
        'tcp',
        `${selectWeb}
rules:
- from:
  - source: {principals: ["cluster.local/ns/shop/sa/client"]}
  to:
  - operation: {ports: ["9000"]}
- to:
  - operation: {methods: ["GET"]}`,
      ),
    ],
    tcp: [
      { from: 'client', want: 'echo' },
      { from: 'other', want: 'closed' },
    ],
    http: [{ from: 'other', path: '/', want: 200 }],
  },
  {
    name: 'dry run: a DENY policy marked istio.io/dry-run is logged, never enforced',
    policies: [
      policy('deny-all-dry', `${selectWeb}\naction: DENY\nrules:\n- {}`, '{istio.io/dry-run: "true"}'),
    ],
    http: [{ from: 'other', path: '/dry', want: 200 }],
    tcp: [{ from: 'other', want: 'echo' }],
    logged: { msg: 'authorization would deny (dry run)', policy: 'shop/deny-all-dry', rule: 0 },
  },
  {
    name: 'AUDIT decides nothing',
    policies: [policy('audit-all', `${selectWeb}\naction: AUDIT\nrules:\n- {}`)],
    http: [{ from: 'other', path: '/audited', want: 200 }],
  },
];

describe('authorization: AuthorizationPolicy enforced at the inbound side through real proxies', () => {
  const bed = new TestBed('authz');
  let mesh: Mesh;
  let base = '';

  before(async () => {
    const httpPort = await bed.listen(
      createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`web saw ${req.method} ${req.url}`);
      }),
    );
    const tcpPort = await bed.listen(createTcpServer((s) => s.pipe(s)));
    const greeter = await startGreeter();
    bed.addApp(() => greeter.stop());
    base = yamlDocs(
      service('web', 'shop', [
        { name: 'http', port: 8080 },
        { name: 'tcp', port: 9000 },
        { name: 'grpc', port: 9090 },
      ]),
      workloadEntry('web', 'shop', WEB),
      workloadEntry('client', 'shop', CLIENT),
      workloadEntry('other', 'shop', OTHER),
      sidecarIngress('web', 'shop', [
        { port: HTTP, appPort: httpPort },
        { port: TCP, appPort: tcpPort },
        { port: GRPC, appPort: greeter.port },
      ]),
      sidecarEgress('client', 'shop', [
        { port: TCP, bind: CLIENT, hosts: ['./*'] },
        { port: GRPC, bind: CLIENT, hosts: ['./*'] },
      ]),
      sidecarEgress('other', 'shop', [{ port: TCP, bind: OTHER, hosts: ['./*'] }]),
    );
    mesh = await bed.startMesh({
      yaml: base,
      workloads: [
        { name: 'web' },
        { name: 'client', outboundProxy: `${CLIENT}:15001` },
        { name: 'other', outboundProxy: `${OTHER}:15001` },
      ],
    });
  });
  after(() => bed.close());

  it('authz: a gRPC call a policy denies fails with PERMISSION_DENIED (grpc-js), one it allows succeeds', async () => {
    const web = mesh.proxy('web');
    const applied = () => web.logs.filter((l) => l.msg === 'snapshot applied').length;
    const had = applied();
    writeFileSync(
      mesh.configFile,
      yamlDocs(
        base,
        policy(
          'grpc-hello-only',
          `${selectWeb}\nrules:\n- to:\n  - operation: {paths: ["/shop.Greeter/SayHello"], ports: ["8080", "9090"]}`,
        ),
      ),
    );
    await waitForLog(web, () => applied() > had);
    const client = greeterClient(`${CLIENT}:9090`);
    try {
      const hello = await client.sayHello('alder');
      assert.equal(hello.message, 'hello alder', 'want SayHello allowed');
      const denied = await client.countTo('alder', 2).then(
        () => 'allowed',
        (err: unknown) => grpcErrorText(err),
      );
      assert.equal(
        denied,
        '7 PERMISSION_DENIED: RBAC: access denied',
        'want CountTo denied as Envoy denies it',
      );
    } finally {
      client.close();
    }
  });

  for (const c of cases) {
    it(`authz: ${c.name}`, async () => {
      const web = mesh.proxy('web');
      // Only web's config changes; a marker policy that never matches makes each case a new snapshot.
      const applied = () => web.logs.filter((l) => l.msg === 'snapshot applied').length;
      const had = applied();
      const marker = policy(
        'marker',
        `${selectWeb}\naction: AUDIT\nrules:\n- to:\n  - operation: {paths: ["/never/${cases.indexOf(c)}"]}`,
      );
      writeFileSync(mesh.configFile, yamlDocs(base, marker, ...c.policies));
      await waitForLog(web, () => applied() > had);
      const logsBefore = web.logs.length;
      for (const h of c.http ?? []) {
        const args = ['--path-as-is', '-x', `http://${CALLERS[h.from]}:15001`, '-X', h.method ?? 'GET'];
        for (const header of h.headers ?? []) args.push('-H', header);
        const r = await curl([...args, `http://web.shop:8080${h.path}`]);
        const what = `${h.from}: ${h.method ?? 'GET'} ${h.path} ${JSON.stringify(h.headers ?? [])}`;
        assert.equal(r.status, h.want, `${what}: want ${h.want}, got ${r.status} ${r.body}`);
        if (h.want === 403) assert.equal(r.body, 'RBAC: access denied', `${what}: want Envoy's body`);
        else assert.match(r.body, /^web saw /, `${what}: want the app's answer`);
        // The operator's view: web's proxy explains the same decision, naming what decided.
        const args2 = ['explain', '--admin', web.admin, '--as', `cluster.local/ns/shop/sa/${h.from}`];
        args2.push('--source-ip', CALLERS[h.from], '-X', h.method ?? 'GET', '-o', 'json');
        for (const header of h.headers ?? []) args2.push('-H', header);
        const explained = await alder([...args2, `http://web.shop:8080${h.path}`]);
        assert.equal(explained.code, 0, `${what}: want alder explain to exit 0: ${explained.stderr}`);
        const e = JSON.parse(explained.stdout) as {
          allowed: boolean;
          deniedBy?: { policy: string; rule: number };
        };
        assert.equal(
          e.allowed,
          h.want === 200,
          `${what}: want explain to agree with the proxy: ${explained.stdout}`,
        );
        if (h.want === 403 && c.logged !== undefined && !c.logged.msg.includes('dry run'))
          assert.equal(
            e.deniedBy?.policy,
            c.logged.policy,
            `${what}: want explain to name the deciding policy`,
          );
      }
      for (const t of c.tcp ?? []) {
        const r = await rawExchange(CALLERS[t.from], 9000, 'ping over tcp', { timeoutMs: 5000 });
        if (t.want === 'echo')
          assert.equal(
            r.reply,
            'ping over tcp',
            `${t.from} over TCP: want the echo, got ${JSON.stringify(r)}`,
          );
        else
          assert.equal(
            r.reply,
            '',
            `${t.from} over TCP: want the connection closed, got ${JSON.stringify(r)}`,
          );
      }
      const logged = c.logged;
      if (logged !== undefined) {
        await waitForLog(
          { logs: web.logs.slice(logsBefore), process: web.process },
          (l) => l.msg === logged.msg && l.policy === logged.policy && l.rule === logged.rule,
        );
      }
    });
  }
});
