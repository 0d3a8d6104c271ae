// HBONE between real proxies: HTTP/1 and TCP carried in HTTP/2 CONNECT streams over one mTLS session
// per peer, to the peer's tunnel port (15008, or a WorkloadEntry's `ports.hbone`); the tunnel port as
// a raw h2 client sees it; and a second mesh with `hbone: {enabled: false}` using direct mTLS.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as h2Connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect, createServer as createTcpServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { meshCa, type WorkloadCert } from './certs.ts';
import { getVia } from './connection-kit.ts';
import type { RunningProxy } from './harness.ts';
import { type Mesh, rawExchange, TestBed } from './mesh-fixture.ts';
import {
  clientWebYaml,
  meshConfig,
  service,
  sidecarEgress,
  sidecarIngress,
  sidecarPort,
  workloadEntry,
  workloadEntryWith,
  yamlDocs,
} from './mesh-yaml.ts';

const CLIENT = '127.0.42.1';
const WEB = '127.0.42.2';
/** alpha and beta share this address, each with its own tunnel port. */
const SHARED = '127.0.42.3';
const PLAIN_CLIENT = '127.0.42.11';
const PLAIN_WEB = '127.0.42.12';
const ALPHA_TUNNEL = 15081;
const BETA_TUNNEL = 15082;
const spiffe = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;

/** What the app saw, as it answers it. */
interface Answer {
  app: string;
  url: string;
  xfcc: string | string[] | undefined;
}

/** An HTTP app that answers with its own name, the path and the caller identity the mesh gave it. */
function whoAmIApp(name: string): Server {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const xfcc = req.headers['x-forwarded-client-cert'];
      const body = JSON.stringify({ app: name, url: req.url ?? '', xfcc } satisfies Answer);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  return server;
}

/** A TCP app that echoes what it receives and, when the client half-closes, says "bye" and closes. */
function echoApp(): NetServer {
  return createTcpServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end('bye'));
  });
}

/**
 * The HBONE mesh: client (.1) → web (.2), which serves HTTP on 8080 and, for Service echo, TCP on 9000;
 * alpha and beta share .3, serving 8080 on workload ports 8081 and 8082 through tunnel ports of their own.
 */
function hboneConfig(apps: { web: number; echo: number; alpha: number; beta: number }): string {
  const http = (port: number) => sidecarPort(port, 'HTTP');
  /** On SHARED, its Service port `http` at `port` and its own tunnel port. */
  const onShared = (name: string, port: number, tunnel: number) =>
    workloadEntryWith({ name, address: SHARED, labels: { app: name }, ports: { http: port, hbone: tunnel } });
  return yamlDocs(
    service('web', 'shop', [{ name: 'http', port: 8080 }]),
    service('echo', 'shop', [{ name: 'tcp', port: 9000 }], 'web'),
    service('alpha', 'shop', [{ name: 'http', port: 8080 }]),
    service('beta', 'shop', [{ name: 'http', port: 8080 }]),
    workloadEntry('client', 'shop', CLIENT),
    workloadEntry('web', 'shop', WEB),
    onShared('alpha', 8081, ALPHA_TUNNEL),
    onShared('beta', 8082, BETA_TUNNEL),
    sidecarIngress('web', 'shop', [
      { port: http(8080), appPort: apps.web },
      { port: sidecarPort(9000, 'TCP'), appPort: apps.echo },
    ]),
    sidecarIngress('alpha', 'shop', [{ port: http(8081), appPort: apps.alpha }]),
    sidecarIngress('beta', 'shop', [{ port: http(8082), appPort: apps.beta }]),
    sidecarEgress('client', 'shop', [
      { port: sidecarPort(9000, 'TCP'), bind: CLIENT, hosts: ['./echo.shop.svc.cluster.local'] },
    ]),
  );
}

/** The same client → web pair on other addresses, with HBONE turned off mesh-wide. */
function plainConfig(webApp: number): string {
  return yamlDocs(
    meshConfig('{hbone: {enabled: false}}'),
    clientWebYaml({ client: PLAIN_CLIENT, web: PLAIN_WEB, appPort: webApp }),
  );
}

/** A 200 from the app `app`, with its answer parsed; fails naming what came back otherwise. */
async function answerOf(proxy: string, authority: string, path: string, app: string): Promise<Answer> {
  const r = await getVia(proxy, authority, path);
  assert.equal(r.status, 200, `${authority}${path}: want 200 from app ${app}, got ${r.status}: ${r.body}`);
  const answer = JSON.parse(r.body) as Answer;
  assert.equal(answer.app, app, `${authority}${path}: want the answer of app ${app}, got ${r.body}`);
  return answer;
}

interface ConfigDump {
  listeners: { kind: string; name: string; address: string; port: number }[];
  clusters: { name: string; endpoints: { address: string; port: number; tunnelPort?: number }[] }[];
}

async function configDump(proxy: RunningProxy): Promise<ConfigDump> {
  return (await (await fetch(`${proxy.admin}/config_dump`)).json()) as ConfigDump;
}

/** The endpoints at `address:port` in every cluster of a config dump. */
function endpointsAt(dump: ConfigDump, address: string, port: number) {
  return dump.clusters.flatMap((c) => c.endpoints).filter((e) => e.address === address && e.port === port);
}

/** One series of /stats (`name{labels}`), 0 when absent. */
async function stat(proxy: RunningProxy, series: string): Promise<number> {
  const text = await (await fetch(`${proxy.admin}/stats`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const connections = (listener: string) => `alder_proxy_connections_total{listener="${listener}"}`;

/**
 * Connects, sends `bytes` without half-closing, and collects what comes back until the other side
 * closes. Fails if it has not closed within 5 s.
 */
async function sendUntilClosed(host: string, port: number, bytes: string): Promise<string> {
  const socket = connect({ host, port });
  let reply = '';
  socket.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(bytes);
  let isTimedOut = false;
  const timer = setTimeout(() => {
    isTimedOut = true;
    socket.destroy();
  }, 5000);
  await once(socket, 'close');
  clearTimeout(timer);
  assert.ok(
    !isTimedOut,
    `${host}:${port}: want the connection closed by the proxy, still open after 5s (got ${JSON.stringify(reply)})`,
  );
  return reply;
}

/** An h2 session over TLS (ALPN h2) to a tunnel port, presenting `cert`; the server's name is not checked. */
function tunnelSession(address: string, port: number, cert: WorkloadCert): ClientHttp2Session {
  const session = h2Connect(`https://${address}:${port}`, {
    ca: readFileSync(cert.ca),
    cert: readFileSync(cert.cert),
    key: readFileSync(cert.key),
    checkServerIdentity: () => undefined,
  });
  session.on('error', () => undefined);
  return session;
}

/** The response headers of `stream`; fails after 5 s, or if it closes without any. */
function responseOf(stream: ClientHttp2Stream, what: string): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: want a response within 5s, got none`)), 5000);
    stream.on('error', () => undefined);
    stream.once('response', (headers) => {
      clearTimeout(timer);
      resolve(headers);
    });
    stream.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`${what}: want a response, the stream closed (code ${stream.rstCode}) without one`));
    });
  });
}

/** Everything `stream` sends until it ends; fails after 5 s naming what came so far. */
function readToEnd(stream: ClientHttp2Stream, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: want the stream ended within 5s, got so far ${JSON.stringify(text)}`)),
      5000,
    );
    stream.setEncoding('latin1');
    stream.on('data', (d: string) => {
      text += d;
    });
    stream.once('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

describe('proxy: HBONE tunnels between proxies', () => {
  const bed = new TestBed('hbone');
  let mesh: Mesh;
  let plain: Mesh;
  /** A mesh certificate for a client that is no proxy. */
  let tester: WorkloadCert;

  before(async () => {
    const [web, alpha, beta, plainWeb] = await Promise.all(
      ['web', 'alpha', 'beta', 'plain-web'].map((name) => bed.listen(whoAmIApp(name))),
    );
    if (web === undefined || alpha === undefined || beta === undefined || plainWeb === undefined) {
      throw new Error('want four apps started');
    }
    const echo = await bed.listen(echoApp());
    mesh = await bed.startMesh({
      yaml: hboneConfig({ web, echo, alpha, beta }),
      workloads: [
        { name: 'web' },
        { name: 'alpha' },
        { name: 'beta' },
        { name: 'client', outboundProxy: `${CLIENT}:15001` },
      ],
      wantCleanExit: true,
    });
    plain = await bed.startMesh({
      folder: 'plain',
      issue: mesh.issue,
      yaml: plainConfig(plainWeb),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: `${PLAIN_CLIENT}:15001` }],
      wantCleanExit: true,
    });
    tester = mesh.issue(spiffe('tester'), 'tester');
  });

  after(() => bed.close());

  it('hbone: HTTP reaches the app with the caller identity, over one tunnel session for 21 requests', async () => {
    const web = mesh.proxy('web');
    const first = await answerOf(`${CLIENT}:15001`, 'web.shop:8080', '/hello', 'web');
    assert.equal(
      first.xfcc,
      `By=${spiffe('web')};URI=${spiffe('client')}`,
      "want the XFCC the server proxy set from the tunnel's mTLS peer (the client's SPIFFE ID)",
    );
    const dump = await configDump(mesh.proxy('client'));
    const endpoints = endpointsAt(dump, WEB, 8080);
    assert.ok(endpoints.length > 0, `want the client's /config_dump to list endpoint ${WEB}:8080`);
    for (const e of endpoints) {
      assert.equal(
        e.tunnelPort,
        15008,
        `want endpoint ${WEB}:8080 with tunnelPort 15008, got ${JSON.stringify(e)}`,
      );
    }
    assert.deepEqual(
      web.listeners.find((l) => l.name === 'tunnel|15008'),
      { name: 'tunnel|15008', address: WEB, port: 15008 },
      `want the web proxy's listeners to include tunnel|15008 on ${WEB}:15008, got ${JSON.stringify(web.listeners)}`,
    );
    const webDump = await configDump(web);
    assert.ok(
      webDump.listeners.some((l) => l.kind === 'tunnel' && l.address === WEB && l.port === 15008),
      `want a tunnel listener on ${WEB}:15008 in the web proxy's /config_dump`,
    );

    for (let i = 0; i < 10; i++) await answerOf(`${CLIENT}:15001`, 'web.shop:8080', `/seq/${i}`, 'web');
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, (_, i) => answerOf(`${CLIENT}:15001`, 'web.shop:8080', `/par/${i}`, 'web')),
    );
    assert.deepEqual(
      concurrent.map((a) => a.url).sort(),
      Array.from({ length: 10 }, (_, i) => `/par/${i}`).sort(),
      'want each concurrent request answered for its own path',
    );
    assert.equal(
      await stat(web, connections('tunnel|15008')),
      1,
      'want the web proxy to have accepted one connection (one TLS session) on its tunnel port for 21 requests',
    );
    assert.equal(
      await stat(web, connections('inbound|8080')),
      0,
      'want no connection on the web proxy’s port 8080 itself: every request came through the tunnel',
    );
  });

  it('hbone: the tunnel port closes a plaintext HTTP/1 request without an answer', async () => {
    const web = mesh.proxy('web');
    const before = await stat(
      web,
      'alder_proxy_inbound_refused_total{listener="tunnel|15008",reason="plaintext-refused"}',
    );
    const reply = await sendUntilClosed(WEB, 15008, 'GET / HTTP/1.1\r\nHost: web.shop:8080\r\n\r\n');
    assert.equal(reply, '', `want no answer to plaintext on the tunnel port, got ${JSON.stringify(reply)}`);
    assert.equal(
      await stat(
        web,
        'alder_proxy_inbound_refused_total{listener="tunnel|15008",reason="plaintext-refused"}',
      ),
      before + 1,
      'want the refusal counted as plaintext-refused on tunnel|15008',
    );
  });

  it('hbone: a mesh client speaking h2 CONNECT to the tunnel port: 404 for an unserved port, the app for a served one, 405 for GET', async () => {
    const session = tunnelSession(WEB, 15008, tester);
    try {
      await once(session, 'connect');
      const socket = session.socket as TLSSocket;
      assert.equal(socket.alpnProtocol, 'h2', 'want ALPN h2 agreed on the tunnel port');
      assert.match(
        socket.getPeerCertificate().subjectaltname ?? '',
        new RegExp(`URI:${spiffe('web')}`),
        "want the tunnel port to present the web workload's certificate",
      );

      const unserved = session.request(
        { ':method': 'CONNECT', ':authority': `${WEB}:9999` },
        { endStream: false },
      );
      const refused = await responseOf(unserved, 'CONNECT to port 9999');
      assert.equal(refused[':status'], 404, 'CONNECT for a port the workload does not serve: want 404');
      assert.equal(
        refused['x-alder-reason'],
        'this workload serves nothing on port 9999',
        'want x-alder-reason saying the workload serves nothing on port 9999',
      );

      const served = session.request(
        { ':method': 'CONNECT', ':authority': `${WEB}:8080` },
        { endStream: false },
      );
      const ok = await responseOf(served, 'CONNECT to port 8080');
      assert.equal(ok[':status'], 200, 'CONNECT for the served HTTP port 8080: want 200');
      const raw = readToEnd(served, 'HTTP/1.1 inside the CONNECT stream');
      served.end('GET /direct HTTP/1.1\r\nHost: web.shop:8080\r\nConnection: close\r\n\r\n');
      const text = await raw;
      assert.match(
        text,
        /^HTTP\/1\.1 200 /,
        `want an HTTP/1.1 200 inside the tunnel, got ${JSON.stringify(text)}`,
      );
      const answer = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Answer;
      assert.deepEqual(
        answer,
        { app: 'web', url: '/direct', xfcc: `By=${spiffe('web')};URI=${spiffe('tester')}` },
        "want the web app's answer, with the tunnel client's identity in XFCC",
      );

      const get = session.request({ ':method': 'GET', ':path': '/' });
      const notConnect = await responseOf(get, 'GET on the tunnel port');
      assert.equal(notConnect[':status'], 405, 'a non-CONNECT method on the tunnel port: want 405');
    } finally {
      session.destroy();
    }
  });

  it('hbone: a client whose certificate is not from the mesh CA fails the TLS handshake', async () => {
    const web = mesh.proxy('web');
    const series = 'alder_proxy_inbound_refused_total{listener="tunnel|15008",reason="tls-failed"}';
    const before = await stat(web, series);
    const rogue = meshCa(bed.dir, 'rogue')(spiffe('client'), 'rogue-client');
    const session = h2Connect(`https://${WEB}:15008`, {
      ca: readFileSync(tester.ca),
      cert: readFileSync(rogue.cert),
      key: readFileSync(rogue.key),
      checkServerIdentity: () => undefined,
    });
    session.on('error', () => undefined);
    const stream = session.request(
      { ':method': 'CONNECT', ':authority': `${WEB}:8080` },
      { endStream: false },
    );
    stream.on('error', () => undefined);
    // Whichever comes first: the session or stream failing or closing (the refusal), or an answer.
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('the session still open after 5s'), 5000);
      const settle = (what: string) => {
        clearTimeout(timer);
        resolve(what);
      };
      session.once('error', (err) => settle(`refused: ${err.message}`));
      stream.once('error', (err) => settle(`refused: ${err.message}`));
      session.once('close', () => settle('refused: the session closed'));
      stream.once('response', (h) => settle(`CONNECT answered with ${String(h[':status'])}`));
    });
    session.destroy();
    assert.match(
      outcome,
      /^refused: /,
      `want the TLS handshake refused for a certificate from another CA, got ${outcome}`,
    );
    assert.equal(
      await stat(web, series),
      before + 1,
      'want the refusal counted as tls-failed on tunnel|15008',
    );
  });

  it('mtls: a STRICT inbound port refuses a certificate from another CA before any request reaches the app', async () => {
    const web = mesh.proxy('web');
    const series = 'alder_proxy_inbound_refused_total{listener="inbound|8080",reason="tls-failed"}';
    const before = await stat(web, series);
    const rogue = meshCa(bed.dir, 'rogue-direct')(spiffe('client'), 'rogue-direct-client');
    const socket = tlsConnect({
      host: WEB,
      port: 8080,
      ca: readFileSync(tester.ca),
      cert: readFileSync(rogue.cert),
      key: readFileSync(rogue.key),
      checkServerIdentity: () => undefined,
    });
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => socket.write(`GET /rogue HTTP/1.1\r\nHost: web\r\n\r\n`));
    // A proxy that took the certificate would answer and keep the connection: give it 5 s at most.
    const timer = setTimeout(() => socket.destroy(), 5000);
    await once(socket, 'close');
    clearTimeout(timer);
    assert.equal(
      answer,
      '',
      `want no answer for a certificate from another CA, got ${JSON.stringify(answer)}`,
    );
    assert.equal(
      await stat(web, series),
      before + 1,
      'want the refusal counted as tls-failed on inbound|8080',
    );
  });

  it('hbone: TCP through the Sidecar egress port echoes with half-close inside the existing tunnel', async () => {
    const web = mesh.proxy('web');
    const sessionsBefore = await stat(web, connections('tunnel|15008'));
    const { reply, ended } = await rawExchange(CLIENT, 9000, 'hello tunnel');
    assert.equal(reply, 'hello tunnelbye', 'want the echo, then the reply the app sent after our half-close');
    assert.equal(ended, true, 'want the far side to close after its reply');
    assert.equal(
      await stat(web, connections('inbound|9000')),
      0,
      'want no connection on the web proxy’s port 9000 itself: the TCP connection came through the tunnel',
    );
    assert.equal(
      await stat(web, connections('tunnel|15008')),
      sessionsBefore,
      "want the TCP stream carried on the client proxy's existing tunnel session, not a new connection",
    );
  });

  it('hbone: workloads sharing an address each serve through their own tunnel port', async () => {
    const alphaAnswer = await answerOf(`${CLIENT}:15001`, 'alpha.shop:8080', '/a', 'alpha');
    const betaAnswer = await answerOf(`${CLIENT}:15001`, 'beta.shop:8080', '/b', 'beta');
    assert.equal(
      alphaAnswer.xfcc,
      `By=${spiffe('alpha')};URI=${spiffe('client')}`,
      "want alpha's proxy and the client's identity",
    );
    assert.equal(
      betaAnswer.xfcc,
      `By=${spiffe('beta')};URI=${spiffe('client')}`,
      "want beta's proxy and the client's identity",
    );
    const dump = await configDump(mesh.proxy('client'));
    for (const [port, tunnelPort] of [
      [8081, ALPHA_TUNNEL],
      [8082, BETA_TUNNEL],
    ] as const) {
      const endpoints = endpointsAt(dump, SHARED, port);
      assert.ok(endpoints.length > 0, `want the client's /config_dump to list endpoint ${SHARED}:${port}`);
      for (const e of endpoints) {
        assert.equal(
          e.tunnelPort,
          tunnelPort,
          `want endpoint ${SHARED}:${port} with tunnelPort ${tunnelPort}, got ${JSON.stringify(e)}`,
        );
      }
    }
    for (const [name, tunnelPort, port] of [
      ['alpha', ALPHA_TUNNEL, 8081],
      ['beta', BETA_TUNNEL, 8082],
    ] as const) {
      const proxy = mesh.proxy(name);
      assert.deepEqual(
        proxy.listeners.find((l) => l.name.startsWith('tunnel|')),
        { name: `tunnel|${tunnelPort}`, address: SHARED, port: tunnelPort },
        `want ${name}'s tunnel listener on ${SHARED}:${tunnelPort}, got ${JSON.stringify(proxy.listeners)}`,
      );
      assert.equal(
        await stat(proxy, connections(`tunnel|${tunnelPort}`)),
        1,
        `want ${name}'s request through its tunnel port ${tunnelPort}`,
      );
      assert.equal(
        await stat(proxy, connections(`inbound|${port}`)),
        0,
        `want no direct connection to ${name}'s port ${port}`,
      );
    }
  });

  it('hbone: with hbone.enabled false, requests use direct mTLS with the caller identity and no tunnel', async () => {
    const web = plain.proxy('web');
    const answer = await answerOf(`${PLAIN_CLIENT}:15001`, 'web.shop:8080', '/plain', 'plain-web');
    assert.equal(
      answer.xfcc,
      `By=${spiffe('web')};URI=${spiffe('client')}`,
      "want the XFCC with the client's SPIFFE ID",
    );
    const dump = await configDump(plain.proxy('client'));
    const endpoints = endpointsAt(dump, PLAIN_WEB, 8080);
    assert.ok(endpoints.length > 0, `want the client's /config_dump to list endpoint ${PLAIN_WEB}:8080`);
    for (const e of endpoints) {
      assert.equal(e.tunnelPort, undefined, `want no tunnelPort with HBONE off, got ${JSON.stringify(e)}`);
    }
    for (const proxy of plain.proxies) {
      const listeners = (await configDump(proxy)).listeners;
      assert.ok(
        !listeners.some((l) => l.kind === 'tunnel'),
        `want no tunnel listener with HBONE off, got ${JSON.stringify(listeners)}`,
      );
      assert.ok(
        !proxy.listeners.some((l) => l.name.startsWith('tunnel|')),
        `want no tunnel listener bound with HBONE off, got ${JSON.stringify(proxy.listeners)}`,
      );
    }
    assert.equal(
      await stat(web, connections('inbound|8080')),
      1,
      "want the request on the web proxy's own port 8080",
    );
  });
});
