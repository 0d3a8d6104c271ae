// An app that is down, through two real proxies with mTLS: the caller's curl gets a reply that names
// the service, the workload and the app's address (HTTP/1 and HTTP/2 ports); the caller's proxy
// shows what it observed of the endpoint (failing, then ejected by outlier detection) in `alder
// proxy-config endpoints` and `alder explain`; a peer whose proxy is down is named with its cluster
// and endpoint; and a DestinationRule's TLS origination is refused once, never retried.
// Mesh: client 127.0.86.1 → reviews-v1 127.0.86.2 (its app killed, its HTTP/2 app never started),
// ghost 127.0.86.3 (no proxy runs there).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterView, EndpointView } from '../src/proxy/index.ts';
import { alder, removeDir, tempDir } from './harness.ts';
import {
  curl,
  type Mesh,
  service,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

const CLIENT_PROXY = 'http://127.0.86.1:15001';
const REVIEWS = 'reviews.shop.svc.cluster.local';
const REVIEWS_CLUSTER = `outbound|9080||${REVIEWS}`;
const GHOST_CLUSTER = 'outbound|9080||ghost.shop.svc.cluster.local';

function config(appPort: number, deadPort: number): string {
  return yamlDocs(
    service(
      'reviews',
      'shop',
      [
        { name: 'http', port: 9080 },
        { name: 'http2', port: 9081 },
      ],
      'reviews-v1',
    ),
    service('secure', 'shop', [{ name: 'http', port: 9082 }], 'reviews-v1'),
    service('ghost', 'shop', [{ name: 'http', port: 9080 }]),
    workloadEntry('client', 'shop', '127.0.86.1'),
    workloadEntry('reviews-v1', 'shop', '127.0.86.2'),
    workloadEntry('ghost', 'shop', '127.0.86.3'),
    sidecarIngress('reviews-v1', 'shop', [
      { port: { number: 9080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: `127.0.0.1:${appPort}` },
      { port: { number: 9081, protocol: 'HTTP2', name: 'http2' }, defaultEndpoint: `127.0.0.1:${deadPort}` },
    ]),
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 60s, maxEjectionPercent: 100}
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure, namespace: shop}
spec:
  host: secure
  trafficPolicy: {tls: {mode: SIMPLE, credentialName: secure-cert}}
`,
  );
}

/** An app that closes every connection after its answer, so that no pooled connection outlives it. */
async function startApp(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('reviews-v1 here\n');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A loopback port nothing listens on (bound, then closed). */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** A table's rows as cells (split on the three-space column gap), header first. */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {3,}/));
}

function flagsOf(headers: string): string | undefined {
  return /^x-alder-response-flags: (.*)$/im.exec(headers)?.[1]?.trim();
}

describe('proxy: an app that is down, through two proxies', () => {
  let dir: string;
  let mesh: Mesh;
  let app: Awaited<ReturnType<typeof startApp>>;
  let deadPort: number;
  const clientAdmin = () => mesh.proxy('client').admin;
  const endpoints = async (args: string[]) => {
    const r = await alder(['proxy-config', 'endpoints', ...args, '--admin', clientAdmin()]);
    assert.equal(r.code, 0, `proxy-config endpoints ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    dir = tempDir('app-down');
    app = await startApp();
    deadPort = await freePort();
    mesh = await startMesh({
      dir,
      yaml: config(app.port, deadPort),
      workloads: [{ name: 'reviews-v1' }, { name: 'client', outboundProxy: '127.0.86.1:15001' }],
    });
  });

  after(async () => {
    await mesh?.stop();
    app?.server.close();
    removeDir(dir);
  });

  it('app down: the reply through both proxies names the service, the workload and the app address', async () => {
    const up = await curl(['-x', CLIENT_PROXY, 'http://reviews.shop:9080/']);
    assert.equal(up.status, 200, `want the app to answer before it is killed, got ${up.status}: ${up.body}`);
    app.server.closeAllConnections();
    app.server.close();
    await once(app.server, 'close');
    const r = await curl(['-x', CLIENT_PROXY, 'http://reviews.shop:9080/']);
    assert.equal(r.status, 503, `want 503 once the app is killed, got ${r.status}: ${r.body}`);
    assert.equal(flagsOf(r.headers), 'UF', `want flag UF, got:\n${r.headers}`);
    assert.equal(
      r.body,
      `upstream connect error: app of workload reviews-v1 (ns shop) for ${REVIEWS}:9080 refused the connection at 127.0.0.1:${app.port} — is it running and listening there?\n`,
      'want the reply to name the workload, the service and where its app should listen',
    );
  });

  it('app down: an HTTP/2 port whose app is not listening says the same over the HTTP/2 hop', async () => {
    const r = await curl(['-x', CLIENT_PROXY, 'http://reviews.shop:9081/']);
    assert.equal(r.status, 503, `want 503, got ${r.status}: ${r.body}`);
    assert.equal(flagsOf(r.headers), 'UF', `want flag UF, got:\n${r.headers}`);
    assert.equal(
      r.body,
      `upstream connect error: app of workload reviews-v1 (ns shop) for ${REVIEWS}:9081 refused the connection at 127.0.0.1:${deadPort} — is it running and listening there?\n`,
    );
  });

  it('app down: proxy-config endpoints shows the endpoint failing, then ejected, apart from its declared health', async () => {
    let table = rows(await endpoints(['--cluster', REVIEWS_CLUSTER]));
    assert.deepEqual(table[0], ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER', 'OBSERVED']);
    assert.deepEqual(table[1]?.slice(0, 4), ['127.0.86.2:9080', 'HEALTHY', 'OK', REVIEWS_CLUSTER]);
    assert.match(
      table[1]?.[4] ?? '',
      /^FAILING: the last try failed; last failure at \S+Z: 503 response$/,
      `want one failure observed (the 503 after the kill), got:\n${table.join('\n')}`,
    );
    for (let i = 0; i < 2; i++) {
      const r = await curl(['-x', CLIENT_PROXY, 'http://reviews.shop:9080/']);
      assert.equal(r.status, 503, `request ${i}: want the peer's 503, got ${r.status}: ${r.body}`);
    }
    table = rows(await endpoints(['--cluster', REVIEWS_CLUSTER, '-o', 'wide']));
    assert.deepEqual(
      table[1]?.slice(0, 7),
      ['127.0.86.2:9080', 'HEALTHY', 'FAILED', REVIEWS_CLUSTER, 'reviews-v1', '-', '1'],
      'want the registry still declaring it HEALTHY, and the outlier check FAILED',
    );
    const until = table[1]?.[7] ?? '';
    assert.ok(Date.parse(until) > Date.now() + 50_000, `want it ejected for about 60s, until ${until}`);
    assert.match(
      table[1]?.[8] ?? '',
      new RegExp(
        `^EJECTED until ${until.replace(/\./g, '\\.')} \\(outlier detection: 3 consecutive 5xx responses or connect failures\\); last failure at \\S+Z: 503 response$`,
      ),
    );
    const { endpoints: json } = JSON.parse(await endpoints(['--observed', 'ejected', '-o', 'json'])) as {
      endpoints: EndpointView[];
    };
    assert.deepEqual(
      json.map((e) => [e.cluster, e.status, e.observed.state, e.observed.consecutiveFailures]),
      [[REVIEWS_CLUSTER, 'HEALTHY', 'EJECTED', 3]],
      'want exactly the HTTP/1 port endpoint ejected, after 3 failures in a row',
    );
    const failure = json[0]?.observed.lastFailure;
    assert.equal(failure?.reason, '503 response');
    assert.ok(
      Math.abs(Date.parse(failure?.at ?? '') - Date.now()) < 30_000,
      `want a recent time, got ${failure?.at}`,
    );
    assert.ok(json[0]?.observed.lastSuccess !== undefined, 'want the success before the kill remembered');
  });

  it('app down: explain names the ejected endpoint with why and until when', async () => {
    const e = await alder(['explain', '--admin', clientAdmin(), 'http://reviews:9080/']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(
      e.stdout,
      /\nendpoints {5}1 \(0 healthy, 1 ejected\): 127\.0\.86\.2:9080 reviews-v1 \(EJECTED until \S+Z \(outlier detection: 3 consecutive 5xx responses or connect failures\); last failure at \S+Z: 503 response\)\n/,
      e.stdout,
    );
  });

  it("peer down: the reply names the cluster and the endpoint, and the endpoint's last connect failure shows", async () => {
    const r = await curl(['-x', CLIENT_PROXY, 'http://ghost.shop:9080/']);
    assert.equal(r.status, 503, `want 503, got ${r.status}: ${r.body}`);
    assert.equal(flagsOf(r.headers), 'UF,URX', `want UF after the default retries, got:\n${r.headers}`);
    assert.equal(
      r.body,
      `upstream connect error for ghost.shop:9080: cluster ${GHOST_CLUSTER}: endpoint 127.0.86.3:9080 (workload ghost, tunnel port 15008): connection refused — is the proxy of workload ghost running?\n`,
    );
    const table = rows(await endpoints(['--cluster', GHOST_CLUSTER]));
    assert.deepEqual(table[1]?.slice(0, 4), ['127.0.86.3:9080', 'HEALTHY', 'OK', GHOST_CLUSTER]);
    assert.match(
      table[1]?.[4] ?? '',
      /^FAILING: the last 3 tries failed; last failure at \S+Z: connect failure: connection refused \(tunnel port 15008\)$/,
      `want the first try and two retries observed, got:\n${table.join('\n')}`,
    );
    const e = await alder(['explain', '--admin', clientAdmin(), 'http://ghost:9080/']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(
      e.stdout,
      /\nendpoints {5}1 \(0 healthy, 1 failing\): 127\.0\.86\.3:9080 ghost \(FAILING: the last 3 tries failed; last failure at \S+Z: connect failure: connection refused \(tunnel port 15008\)\)\n/,
      e.stdout,
    );
  });

  it('tls: a DestinationRule asking for TLS origination the proxy cannot do is refused once, final, with no retry (no URX)', async () => {
    const r = await curl(['-x', CLIENT_PROXY, 'http://secure.shop:9082/']);
    assert.equal(r.status, 503, `want 503, got ${r.status}: ${r.body}`);
    assert.equal(
      flagsOf(r.headers),
      'UF',
      `want UF alone: the refusal is final, never retried; got:\n${r.headers}`,
    );
    assert.equal(
      r.body,
      'TLS origination to secure.shop:9082 impossible: DestinationRule shop/secure sets tls.mode SIMPLE, and its credentialName secure-cert (certificates from a secret) is not supported yet; nothing was sent\n',
    );
    const c = await alder([
      'proxy-config',
      'clusters',
      '--fqdn',
      'secure',
      '-o',
      'json',
      '--admin',
      clientAdmin(),
    ]);
    assert.equal(c.code, 0, c.stderr);
    const [cluster] = (JSON.parse(c.stdout) as { clusters: ClusterView[] }).clusters;
    assert.equal(cluster?.tlsMode, 'SIMPLE');
    assert.equal(
      cluster?.policy,
      'DestinationRule shop/secure (trafficPolicy): ROUND_ROBIN, TLS origination SIMPLE (impossible: credentialName secure-cert (certificates from a secret) is not supported yet; every request is refused, 503 UF)',
      'want the cluster view to say TLS SIMPLE, not plaintext',
    );
    const { endpoints: seen } = JSON.parse(
      await endpoints(['--cluster', 'outbound|9082||secure.shop.svc.cluster.local', '-o', 'json']),
    ) as { endpoints: EndpointView[] };
    assert.deepEqual(
      seen.map((e) => e.observed.state),
      ['HEALTHY'],
      'want no try made, so nothing observed of the endpoint',
    );
  });
});
