// A Sidecar's egress hosts through real proxies: a host the scope leaves out is refused with flag NR
// and a reason naming the Sidecar, whether it is a mesh service the Sidecar hides or a host outside
// the mesh, through the forward proxy (absolute form and CONNECT) and through an egress port.
// Mesh: client 127.0.15.1 → web 127.0.15.2; api and ratings have no workloads.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { curl, rawExchange, TestBed } from './mesh-fixture.ts';
import { clientWebYaml, service, yamlDocs } from './mesh-yaml.ts';

const FORWARD = 'http://127.0.15.1:15001';
const WEB_ONLY = '"./web.shop.svc.cluster.local"';

/** The namespace's default Sidecar: the client reaches web, on its egress port and through the forward proxy. */
const DEFAULT_SIDECAR = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - port: {number: 8080, protocol: HTTP, name: http}
    bind: 127.0.15.1
    hosts: [${WEB_ONLY}]
  - hosts: [${WEB_ONLY}, "istio-system/*"]
`;

function config(appPort: number): string {
  return yamlDocs(
    clientWebYaml({ client: '127.0.15.1', web: '127.0.15.2', appPort }),
    service('api', 'shop', [{ name: 'http', port: 8080 }]),
    service('ratings', 'shop', [{ name: 'http', port: 9080 }]),
    DEFAULT_SIDECAR,
  );
}

describe('proxy: a Sidecar egress scope names itself when it refuses a host', () => {
  const bed = new TestBed('egress-scope');

  before(async () => {
    await bed.startMesh({
      yaml: config(await bed.listen(createServer((_req, res) => res.end('web\n')))),
      workloads: [{ name: 'web' }, { name: 'client', outboundProxy: '127.0.15.1:15001' }],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it('egress scope: a host the Sidecar covers is served', async () => {
    const r = await curl(['-x', FORWARD, 'http://web.shop:8080/']);
    assert.equal(r.status, 200, `want web served through the forward proxy, got ${r.status}: ${r.body}`);
    assert.equal(r.body, 'web\n');
  });

  const refusals: { name: string; args: string[]; want: string }[] = [
    {
      name: 'a mesh service the catch-all listener hides (forward proxy)',
      args: ['-x', FORWARD, 'http://ratings.shop:9080/'],
      want: `no route to ratings.shop:9080: ratings.shop is a mesh service hidden by Sidecar shop/default, which limits this workload's egress to [${WEB_ONLY}, "istio-system/*"]; add the host to its egress hosts`,
    },
    {
      name: 'a mesh service the port listener hides (egress port)',
      args: ['-H', 'Host: api.shop:8080', 'http://127.0.15.1:8080/'],
      want: `no route to api.shop:8080: api.shop is a mesh service hidden by Sidecar shop/default, which limits this workload's egress to [${WEB_ONLY}]; add the host to its egress hosts`,
    },
    {
      name: 'a host outside the mesh (forward proxy)',
      args: ['-x', FORWARD, 'http://nowhere.example/'],
      want: `no route to nowhere.example: it is not in the mesh registry and outboundTrafficPolicy is REGISTRY_ONLY; declare it with a ServiceEntry, and include it in the egress hosts of Sidecar shop/default ([${WEB_ONLY}, "istio-system/*"])`,
    },
  ];
  for (const c of refusals) {
    it(`egress scope: refuses ${c.name} with NR, naming the Sidecar`, async () => {
      const r = await curl(c.args);
      assert.equal(r.status, 502, `want 502, got ${r.status}: ${r.body}`);
      assert.match(r.headers, /\r\nx-alder-response-flags: NR\r?$/im, `want flag NR, got:\n${r.headers}`);
      assert.equal(r.body, `${c.want}\n`, 'want the reason to name the Sidecar and its egress hosts');
    });
  }

  it('egress scope: CONNECT to a mesh service the Sidecar hides is refused with the same reason', async () => {
    const { reply } = await rawExchange(
      '127.0.15.1',
      15001,
      'CONNECT ratings.shop:9080 HTTP/1.1\r\nhost: ratings.shop:9080\r\n\r\n',
    );
    assert.match(reply, /^HTTP\/1\.1 502 /, `want 502 for CONNECT, got ${JSON.stringify(reply)}`);
    assert.ok(
      reply.includes('ratings.shop is a mesh service hidden by Sidecar shop/default'),
      `want the reason to name the Sidecar, got ${JSON.stringify(reply)}`,
    );
  });
});
