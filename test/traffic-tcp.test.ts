// VirtualService `tcp` and `tls` routes through real proxies with mTLS: client app → Sidecar egress
// port → proxy A (routes each connection: by port, weights, or the SNI of the app's own ClientHello)
// → mTLS → proxy B → a TCP echo app or a TLS app that says who it is. The app's TLS goes end to end.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { waitForLog } from './harness.ts';
import { type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import { type SidecarPort, sidecarEgress, sidecarIngress, workloadEntryWith, yamlDocs } from './mesh-yaml.ts';

const NET = '127.0.41';
const CLIENT = `${NET}.1`;
const TLS_PORT = 8443;
const TLS_NAMES = ['tls-a', 'tls-b', 'tls-w'];

/** Says `name|`, echoes what it receives, and when the client half-closes says "bye" and closes. */
function echoApp(name: string): Server {
  return createServer({ allowHalfOpen: true }, (s) => {
    s.write(`${name}|`);
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end('bye'));
  });
}

/** A TLS server (the app's own certificate) that says `name sni=<server name>` and echoes. */
function tlsApp(name: string, cert: { key: Buffer; cert: Buffer }): Server {
  const server = createTlsServer({ ...cert, allowHalfOpen: true }, (s) => {
    s.write(`${name} sni=${s.servername || '-'}\n`);
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  server.on('tlsClientError', () => undefined);
  return server;
}

/** A self-signed certificate for every name the TLS apps are reached by, made with openssl. */
function selfSigned(dir: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, 'app-key.pem');
  const cert = join(dir, 'app.pem');
  const names = [
    '*.example.com',
    '*.wild.example.com',
    ...TLS_NAMES.flatMap((n) => [`${n}.shop.svc.cluster.local`, `${n}.shop`]),
  ];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
      ...['-subj', '/O=alder-test/CN=app', '-keyout', key, '-out', cert],
      ...['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/**
 * A TLS client through the client proxy's egress port: the first line the app sends, or `closed`
 * when the connection ends before a TLS session (the proxy refused it).
 */
async function tlsHello(servername: string, ca: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: CLIENT, port: TLS_PORT, servername, ca });
    let text = '';
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text === '' ? 'closed' : (text.split('\n')[0] as string));
    });
  });
}

/** A WorkloadEntry with labels, whose Sidecar (selecting `workload: <name>`) sends inbound `port` to `appPort`. */
function workload(o: {
  name: string;
  address: string;
  /** `app` names its service account too. */
  labels: { app: string; [label: string]: string };
  port?: SidecarPort;
  appPort?: number;
}): string[] {
  const entry = workloadEntryWith({
    name: o.name,
    address: o.address,
    labels: { ...o.labels, workload: o.name },
    serviceAccount: o.labels.app,
  });
  if (o.port === undefined || o.appPort === undefined) return [entry];
  return [
    entry,
    sidecarIngress(o.name, 'shop', [{ port: o.port, appPort: o.appPort }], { workload: o.name }),
  ];
}

function config(apps: Map<string, number>): string {
  const port = (name: string) => apps.get(name) as number;
  const tcp = (n: number, name: string) => ({ number: n, protocol: 'TCP', name });
  return yamlDocs(
    `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: shop}
spec: {selector: {app: echo}, ports: [{name: tcp-echo, port: 9000}]}
`,
    `apiVersion: v1
kind: Service
metadata: {name: multi, namespace: shop}
spec: {selector: {app: multi}, ports: [{name: tcp-a, port: 9100}, {name: tcp-b, port: 9101}, {name: tcp-c, port: 9102}]}
`,
    ...TLS_NAMES.map(
      (n) => `apiVersion: v1
kind: Service
metadata: {name: ${n}, namespace: shop}
spec: {selector: {app: ${n}}, ports: [{name: tls, port: ${TLS_PORT}}]}
`,
    ),
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: example, namespace: shop}
spec:
  hosts: ["*.example.com"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: ${TLS_PORT}, name: tls, protocol: TLS}]
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: shop}
spec:
  host: echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - name: capped
    labels: {version: v1}
    trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: shop}
spec:
  hosts: [echo]
  tcp:
  - route:
    - {destination: {host: echo, subset: v1}, weight: 50}
    - {destination: {host: echo, subset: v2}, weight: 50}
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi, namespace: shop}
spec:
  hosts: [multi]
  tcp:
  - match: [{port: 9100}]
    route: [{destination: {host: echo, subset: v1, port: {number: 9000}}}]
  - match: [{port: 9101}]
    route: [{destination: {host: echo, subset: v2, port: {number: 9000}}}]
  - match: [{port: 9102}]
    route: [{destination: {host: echo, subset: capped, port: {number: 9000}}}]
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: example, namespace: shop}
spec:
  hosts: ["*.example.com"]
  tls:
  - match: [{port: ${TLS_PORT}, sniHosts: [a.example.com]}]
    route: [{destination: {host: tls-a.shop.svc.cluster.local, port: {number: ${TLS_PORT}}}}]
  - match: [{sniHosts: [b.example.com]}]
    route: [{destination: {host: tls-b.shop.svc.cluster.local, port: {number: ${TLS_PORT}}}}]
  - match: [{sniHosts: ["*.wild.example.com"]}]
    route: [{destination: {host: tls-w.shop.svc.cluster.local, port: {number: ${TLS_PORT}}}}]
`,
    ...workload({ name: 'client', address: CLIENT, labels: { app: 'client' } }),
    ...['v1', 'v2'].flatMap((v, i) =>
      workload({
        name: `echo-${v}`,
        address: `${NET}.${2 + i}`,
        labels: { app: 'echo', version: v },
        port: tcp(9000, 'tcp-echo'),
        appPort: port(`echo-${v}`),
      }),
    ),
    ...TLS_NAMES.flatMap((n, i) =>
      workload({
        name: n,
        address: `${NET}.${4 + i}`,
        labels: { app: n },
        port: { number: TLS_PORT, protocol: 'TLS', name: 'tls' },
        appPort: port(n),
      }),
    ),
    sidecarEgress('client', 'shop', [
      { port: tcp(9000, 'tcp-echo'), bind: CLIENT, hosts: ['./echo.shop.svc.cluster.local'] },
      ...[9100, 9101, 9102].map((n, i) => ({
        port: tcp(n, `tcp-${'abc'[i]}`),
        bind: CLIENT,
        hosts: ['./multi.shop.svc.cluster.local'],
      })),
      {
        port: { number: TLS_PORT, protocol: 'TLS', name: 'tls' },
        bind: CLIENT,
        hosts: ['./*.example.com', './tls-a.shop.svc.cluster.local', './tls-b.shop.svc.cluster.local'],
      },
    ]),
  );
}

/** Who answered a plain TCP exchange on an egress port (`echo-v1|…`), or '' when refused. */
async function whoAnswers(port: number, bytes = 'x'): Promise<string> {
  const { reply } = await rawExchange(CLIENT, port, bytes);
  return reply.split('|')[0] ?? '';
}

describe('traffic: TCP and TLS routes', () => {
  const bed = new TestBed('traffic-tcp');
  let mesh: Mesh;
  let cert: { key: Buffer; cert: Buffer };

  before(async () => {
    cert = selfSigned(bed.dir);
    const apps = new Map<string, number>();
    for (const name of ['echo-v1', 'echo-v2']) apps.set(name, await bed.listen(echoApp(name)));
    for (const name of TLS_NAMES) apps.set(name, await bed.listen(tlsApp(name, cert)));
    mesh = await bed.startMesh({
      yaml: config(apps),
      workloads: [
        { name: 'client' },
        { name: 'echo-v1', serviceAccount: 'echo' },
        { name: 'echo-v2', serviceAccount: 'echo' },
        ...TLS_NAMES.map((name) => ({ name })),
      ],
    });
  });

  after(() => bed.close());

  const stats = async () => (await fetch(`${mesh.proxy('client').admin}/stats`)).text();

  it('tcp: a 50/50 weighted split to two subsets spreads 100 connections within 30..70 each', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const who = await whoAnswers(9000);
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
    // A fair coin lands outside 30..70 of 100 with probability about 8e-5 (4 standard deviations).
    const v1 = counts.get('echo-v1') ?? 0;
    const v2 = counts.get('echo-v2') ?? 0;
    assert.equal(
      v1 + v2,
      100,
      `want every connection answered by v1 or v2, got ${JSON.stringify([...counts])}`,
    );
    assert.ok(v1 >= 30 && v1 <= 70, `want v1 within 30..70 of 100, got v1=${v1} v2=${v2}`);
  });

  it('tcp: routes matched by port send each egress port of one service to its own subset', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal(await whoAnswers(9100), 'echo-v1', 'want port 9100 routed to subset v1');
      assert.equal(await whoAnswers(9101), 'echo-v2', 'want port 9101 routed to subset v2');
    }
  });

  it('tcp: half-close passes through a routed connection both ways', async () => {
    const { reply, ended } = await rawExchange(CLIENT, 9100, 'half');
    assert.equal(reply, 'echo-v1|halfbye', 'want the echo, then the reply the app sent after our half-close');
    assert.equal(ended, true, 'want the far side to close after its reply');
  });

  it('tcp: a second connection beyond maxConnections 1 is refused with flag UO', async () => {
    const held: Socket = connect({ host: CLIENT, port: 9102 });
    held.on('error', () => undefined);
    let first = '';
    held.on('data', (d: Buffer) => {
      first += d.toString();
    });
    held.write('hold');
    const deadline = Date.now() + 5000;
    while (!first.includes('hold') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(first, 'echo-v1|hold', 'want the first connection through to the capped subset');
    const refused = await rawExchange(CLIENT, 9102, 'second');
    held.destroy();
    assert.equal(refused.reply, '', 'want the second connection closed without reaching the app');
    assert.match(await stats(), /alder_proxy_local_replies_total\{listener="egress\|9102",flag="UO"\} 1/);
  });

  const sniCases = [
    { sni: 'a.example.com', want: 'tls-a sni=a.example.com' },
    { sni: 'b.example.com', want: 'tls-b sni=b.example.com' },
    { sni: 'deep.wild.example.com', want: 'tls-w sni=deep.wild.example.com' },
    { sni: 'tls-b.shop.svc.cluster.local', want: 'tls-b sni=tls-b.shop.svc.cluster.local' },
    { sni: 'tls-a.shop', want: 'tls-a sni=tls-a.shop' },
  ];
  for (const c of sniCases) {
    it(`tls: SNI ${c.sni} on the shared port reaches ${c.want.split(' ')[0]}, TLS end to end`, async () => {
      // The client verifies the app's own certificate: the proxies moved the TLS bytes untouched.
      assert.equal(await tlsHello(c.sni, cert.cert), c.want);
    });
  }

  it('tls: a connection whose SNI no route takes is closed and logged with flag NR', async () => {
    assert.equal(
      await tlsHello('c.example.com', cert.cert),
      'closed',
      'want no TLS session for c.example.com',
    );
    const line = await waitForLog(
      mesh.proxy('client'),
      (e) => e.msg === 'connection refused' && e.flag === 'NR' && e.sni === 'c.example.com',
    );
    assert.equal(line.listener, `egress|${TLS_PORT}`);
  });

  it('tls: a plaintext connection on a port with only TLS routes is closed (flag NR)', async () => {
    const { reply } = await rawExchange(CLIENT, TLS_PORT, 'plain hello');
    assert.equal(reply, '', 'want no answer to plaintext on a TLS-routed port');
    await waitForLog(
      mesh.proxy('client'),
      (e) =>
        e.msg === 'connection refused' &&
        e.flag === 'NR' &&
        e.sni === undefined &&
        e.listener === `egress|${TLS_PORT}`,
    );
  });
});
