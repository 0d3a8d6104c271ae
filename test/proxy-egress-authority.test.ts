// Egress ports and the authority clients send: a port that serves one service takes every request
// for it, whatever the Host or :authority says (grpc-js sends `127.0.0.1:PORT` by default); a port
// with several services routes by Host, and its refusal names the port and the hosts it serves.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Greeter, greeterClient, grpcErrorText, startGreeter } from './grpc-js-kit.ts';
import { within } from './grpc-kit.ts';
import { removeDir, tempDir } from './harness.ts';
import {
  curl,
  type Mesh,
  service,
  sidecarEgress,
  sidecarIngress,
  startMesh,
  workloadEntry,
  yamlDocs,
} from './mesh-fixture.ts';

const CLIENT = '127.0.138.1';
const WEB = '127.0.138.2';
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';

/**
 * The mesh: client (CLIENT) → web (WEB). Egress ports on CLIENT: 9090 serves greeter alone (gRPC),
 * 8080 serves pages alone (HTTP/1.1), 9091 serves greeter-a and greeter-b (gRPC, routed by authority).
 */
function config(ports: { greeter: number; pages: number }): string {
  const grpcIngress = (number: number) => ({
    port: { number, protocol: 'GRPC', name: 'grpc' },
    defaultEndpoint: `127.0.0.1:${ports.greeter}`,
  });
  return yamlDocs(
    service('greeter', 'shop', [{ name: 'grpc', port: 9090 }], 'web'),
    service('greeter-a', 'shop', [{ name: 'grpc', port: 9091 }], 'web'),
    service('greeter-b', 'shop', [{ name: 'grpc', port: 9091 }], 'web'),
    service('pages', 'shop', [{ name: 'http', port: 8080 }], 'web'),
    workloadEntry('web', 'shop', WEB),
    workloadEntry('client', 'shop', CLIENT),
    sidecarIngress('web', 'shop', [
      grpcIngress(9090),
      grpcIngress(9091),
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: `127.0.0.1:${ports.pages}` },
    ]),
    sidecarEgress('client', 'shop', [
      { port: { number: 9090, protocol: 'GRPC', name: 'grpc' }, bind: CLIENT, hosts: ['./*'] },
      { port: { number: 9091, protocol: 'GRPC', name: 'grpc' }, bind: CLIENT, hosts: ['./*'] },
      { port: { number: 8080, protocol: 'HTTP', name: 'http' }, bind: CLIENT, hosts: ['./*'] },
    ]),
  );
}

/** An HTTP/1.1 app that answers with the Host it saw and the identity the mesh vouched for. */
async function pagesApp(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ host: req.headers.host, xfcc: req.headers['x-forwarded-client-cert'] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('proxy: egress ports and the authority clients send', () => {
  let dir: string;
  let mesh: Mesh;
  let greeter: Awaited<ReturnType<typeof startGreeter>>;
  let pages: Awaited<ReturnType<typeof pagesApp>>;
  const clients: Greeter[] = [];

  before(async () => {
    dir = tempDir('egress-authority');
    greeter = await startGreeter();
    pages = await pagesApp();
    mesh = await startMesh({
      dir,
      yaml: config({ greeter: greeter.port, pages: pages.port }),
      workloads: [{ name: 'web' }, { name: 'client' }],
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await mesh.stop({ wantCleanExit: true });
    greeter.stop();
    pages.server.close();
    removeDir(dir);
  });

  it('grpc-js with its default authority (the port itself) reaches the one service of a gRPC egress port', async () => {
    const client = greeterClient(`${CLIENT}:9090`);
    clients.push(client);
    const hello = await within(client.sayHello('ada'), 'SayHello on egress port 9090');
    assert.equal(hello.message, 'hello ada', 'want the unary reply');
    assert.equal(
      hello.authority,
      'greeter.shop.svc.cluster.local:9090',
      "want the service's name as the authority the app sees, not the client's 127.0.0.1-style one",
    );
    assert.match(hello.xfcc, new RegExp(`URI=${CLIENT_ID}$`), 'want the call carried over mTLS');
    const stream = await client.countTo('bob', 2);
    assert.deepEqual(
      stream.map((g) => g.message),
      ['1 for bob', '2 for bob'],
      'want the server-streaming replies',
    );
  });

  it('HTTP/1.1 with Host naming the port itself reaches the one service of an HTTP egress port', async () => {
    const r = await curl([`http://${CLIENT}:8080/page`]);
    assert.equal(r.status, 200, `want 200 from pages, got ${r.status}: ${r.body}`);
    const seen = JSON.parse(r.body) as { host: string; xfcc: string };
    assert.equal(seen.host, 'pages.shop.svc.cluster.local:8080', "want the service's name as the Host");
    assert.match(seen.xfcc, new RegExp(`URI=${CLIENT_ID}$`), 'want the request carried over mTLS');
  });

  it('a port with several services routes by authority, and refuses an unknown one naming the port and its hosts', async () => {
    const named = greeterClient(`${CLIENT}:9091`);
    clients.push(named);
    const err = await within(
      named.sayHello('eve').then(
        (g) => new Error(`want the call refused, got ${JSON.stringify(g)}`),
        (e: unknown) => e,
      ),
      'the refused call on egress port 9091',
    );
    const text = grpcErrorText(err);
    assert.match(text, /^14 UNAVAILABLE: /, `want UNAVAILABLE, got ${text}`);
    assert.match(text, new RegExp(`egress\\|9091 \\(${CLIENT}:9091\\)`), `want the port named, got ${text}`);
    assert.match(
      text,
      /"greeter-a\.shop:9091", "greeter-b\.shop:9091"/,
      `want its hosts listed, got ${text}`,
    );
    assert.doesNotMatch(
      text,
      /ServiceEntry/,
      `want no ServiceEntry advice for a port's own client, got ${text}`,
    );

    const byName = greeterClient(`${CLIENT}:9091`, {}, { 'grpc.default_authority': 'greeter-b.shop:9091' });
    clients.push(byName);
    const hello = await within(byName.sayHello('fay'), 'a call naming greeter-b.shop:9091');
    assert.equal(hello.authority, 'greeter-b.shop:9091', 'want the authority the client named, unchanged');
  });
});
