// TLS origination through a real proxy: the app sends plain HTTP through its proxy to
// api.example.test, a ServiceEntry whose DestinationRule sets tls.mode SIMPLE or MUTUAL, and the
// proxy speaks TLS to a local HTTPS server standing in for the external host (its own CA, a DNS
// name in its certificate; the MUTUAL one asks for a client certificate). Each case changes the
// DestinationRule live and checks what the app gets: the server's answer, or 503 UF naming why.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { meshCa } from './certs.ts';
import { waitForLog } from './harness.ts';
import { curl, type Mesh, TestBed } from './mesh-fixture.ts';
import { workloadEntry, yamlDocs } from './mesh-yaml.ts';

const CLIENT = '127.0.162.1';
const HOST = 'api.example.test';

describe('TLS origination: DestinationRule SIMPLE and MUTUAL to a host outside the mesh', () => {
  const bed = new TestBed('origination');
  let mesh: Mesh;
  let base = '';
  let files: { ca: string; clientCert: string; clientKey: string };

  before(async () => {
    const issue = meshCa(bed.dir, 'ext-ca');
    const server = issue('', 'api', `DNS:${HOST}`);
    const client = issue('', 'client', 'DNS:client.example.test');
    files = { ca: server.ca, clientCert: client.cert, clientKey: client.key };
    const answer = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          servername: (socket as TLSSocket & { servername?: string }).servername,
          clientCert: peer?.subjectaltname ?? null,
          path: req.url,
        }),
      );
    };
    const pem = await import('node:fs').then((fs) => ({
      cert: fs.readFileSync(server.cert),
      key: fs.readFileSync(server.key),
      ca: fs.readFileSync(server.ca),
    }));
    const simplePort = await bed.listen(createHttpsServer({ cert: pem.cert, key: pem.key }, answer));
    const mutualPort = await bed.listen(
      createHttpsServer(
        { cert: pem.cert, key: pem.key, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
        answer,
      ),
    );
    const serviceEntry = (name: string, host: string, port: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: shop}
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${port}}}]
`;
    base = yamlDocs(
      workloadEntry('client', 'shop', CLIENT),
      serviceEntry('api', HOST, simplePort),
      serviceEntry('api-mutual', 'mutual.example.test', mutualPort),
    );
    mesh = await bed.startMesh({
      yaml: yamlDocs(base, rule(HOST, 'mode: DISABLE')),
      workloads: [{ name: 'client', outboundProxy: `${CLIENT}:15001` }],
    });
  });
  after(() => bed.close());

  function rule(host: string, tls: string): string {
    return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host.split('.')[0]}, namespace: shop}
spec:
  host: ${host}
  trafficPolicy:
    tls: {${tls}}
`;
  }

  async function withRules(...rules: string[]): Promise<void> {
    const proxy = mesh.proxy('client');
    const applied = () => proxy.logs.filter((l) => l.msg === 'snapshot applied').length;
    const had = applied();
    writeFileSync(mesh.configFile, yamlDocs(base, ...rules));
    await waitForLog(proxy, () => applied() > had);
  }

  const get = (host: string, path = '/v1/things') =>
    curl(['-x', `http://${CLIENT}:15001`, `http://${host}:8080${path}`]);

  it('SIMPLE with the server CA: the app speaks HTTP, the server sees TLS with the host as SNI', async () => {
    await withRules(rule(HOST, `mode: SIMPLE, caCertificates: ${files.ca}`));
    const r = await get(HOST);
    assert.equal(r.status, 200, `want the server's answer through TLS, got ${r.status} ${r.body}`);
    assert.deepEqual(JSON.parse(r.body), { servername: HOST, clientCert: null, path: '/v1/things' });
  });

  it('SIMPLE checks the server: an untrusted CA or a wrong name fails with 503 UF, nothing in plaintext', async () => {
    for (const tls of [
      'mode: SIMPLE',
      `mode: SIMPLE, caCertificates: ${files.ca}, sni: other.example.test`,
      `mode: SIMPLE, caCertificates: ${files.ca}, subjectAltNames: [nope.example.test]`,
    ]) {
      await withRules(rule(HOST, tls));
      const r = await get(HOST);
      assert.equal(r.status, 503, `${tls}: want 503, got ${r.status} ${r.body}`);
      assert.match(r.headers, /x-alder-response-flags: UF/i, `${tls}: want flag UF`);
    }
  });

  it('SIMPLE with subjectAltNames or insecureSkipVerify', async () => {
    for (const tls of [
      `mode: SIMPLE, caCertificates: ${files.ca}, sni: other.example.test, subjectAltNames: [${HOST}]`,
      'mode: SIMPLE, insecureSkipVerify: true',
    ]) {
      await withRules(rule(HOST, tls));
      const r = await get(HOST);
      assert.equal(r.status, 200, `${tls}: want 200, got ${r.status} ${r.body}`);
    }
  });

  it('MUTUAL presents the client certificate; without one the server refuses it (503 UF)', async () => {
    await withRules(
      rule(
        'mutual.example.test',
        `mode: MUTUAL, caCertificates: ${files.ca}, clientCertificate: ${files.clientCert}, privateKey: ${files.clientKey}, sni: ${HOST}`,
      ),
    );
    const r = await get('mutual.example.test');
    assert.equal(r.status, 200, `want 200 with the client certificate, got ${r.status} ${r.body}`);
    assert.equal(
      JSON.parse(r.body).clientCert,
      'DNS:client.example.test',
      'want the server to see our certificate',
    );
    await withRules(rule('mutual.example.test', `mode: SIMPLE, caCertificates: ${files.ca}, sni: ${HOST}`));
    const without = await get('mutual.example.test');
    assert.equal(
      without.status,
      503,
      `want 503 without a client certificate, got ${without.status} ${without.body}`,
    );
  });

  it('what the proxy cannot do is refused, named: credentialName, a missing file', async () => {
    for (const [tls, why] of [
      ['mode: SIMPLE, credentialName: api-cert', /credentialName api-cert .*not supported/],
      ['mode: SIMPLE, caCertificates: /nonexistent/ca.pem', /cannot load its TLS files/],
    ] as const) {
      await withRules(rule(HOST, tls));
      const r = await get(HOST);
      assert.equal(r.status, 503, `${tls}: want 503, got ${r.status} ${r.body}`);
      assert.match(r.body, why, `${tls}: want the reason in the body`);
    }
  });
});
