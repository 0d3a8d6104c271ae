// The control plane's HTTP API, black-box: a real `alder control-plane` process on loopback, spoken
// to with fetch and curl on the Kubernetes path scheme.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api, type RunningControlPlane, removeDir, startControlPlane, tokenFor } from './harness.ts';

const VS_PATH = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';

function virtualService(
  name: string,
  extra: Record<string, unknown> = {},
): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: { hosts: string[]; http: Record<string, unknown>[] };
} {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, labels: { app: name, team: 'blue' } },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name } }] }] },
    ...extra,
  };
}

describe('control plane API', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    const code = await cp.stop();
    removeDir(cp.dataDir);
    assert.equal(code, 0, 'want a clean exit (0) on SIGTERM');
  });

  it('health: /healthz and /readyz answer 200 once ready', async () => {
    assert.equal((await api(`${cp.url}/healthz`)).status, 200);
    const ready = await api(`${cp.url}/readyz`);
    assert.equal(ready.status, 200, `readyz: ${JSON.stringify(ready.body)}`);
  });

  it('create, get, list, replace and delete a VirtualService', async () => {
    const created = await api(cp.url + VS_PATH, { method: 'POST', body: virtualService('ratings') });
    assert.equal(
      created.status,
      201,
      `create: want 201, got ${created.status} ${JSON.stringify(created.body)}`,
    );
    const meta = created.body.metadata as Record<string, string>;
    assert.match(meta.resourceVersion ?? '', /^\d+$/, 'want a numeric resourceVersion');
    assert.equal(meta.namespace, 'default', 'want the namespace filled in from the path');

    const got = await api(`${cp.url}${VS_PATH}/ratings`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.spec, virtualService('ratings').spec, 'want the spec back unchanged');

    const updated = await api(`${cp.url}${VS_PATH}/ratings`, {
      method: 'PUT',
      body: {
        ...virtualService('ratings'),
        metadata: { name: 'ratings', resourceVersion: meta.resourceVersion },
      },
    });
    assert.equal(updated.status, 200, `replace: ${JSON.stringify(updated.body)}`);

    const stale = await api(`${cp.url}${VS_PATH}/ratings`, {
      method: 'PUT',
      body: {
        ...virtualService('ratings'),
        metadata: { name: 'ratings', resourceVersion: meta.resourceVersion },
      },
    });
    assert.equal(stale.status, 409, `stale resourceVersion: want 409, got ${stale.status}`);
    assert.equal(stale.body.code, 'ALDER_STORE_CONFLICT');

    const deleted = await api(`${cp.url}${VS_PATH}/ratings`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.equal((await api(`${cp.url}${VS_PATH}/ratings`)).status, 404, 'want 404 after delete');
  });

  it('create: accepts a YAML body and serves the v1beta1 alias', async () => {
    const yaml = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: details
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details}
`;
    const created = await api(cp.url + VS_PATH.replace('/v1/', '/v1beta1/'), {
      method: 'POST',
      body: yaml,
      contentType: 'application/yaml',
    });
    assert.equal(created.status, 201, `yaml create: ${JSON.stringify(created.body)}`);
    assert.equal(
      created.body.apiVersion,
      'networking.istio.io/v1beta1',
      'want the object served in the version asked',
    );
    const v1 = await api(`${cp.url}${VS_PATH}/details`);
    assert.equal(v1.body.apiVersion, 'networking.istio.io/v1', 'want v1 on the v1 path');
  });

  it('list: filters by label selector and across namespaces', async () => {
    for (const [name, team] of [
      ['a1', 'red'],
      ['a2', 'blue'],
    ] as const) {
      const body = virtualService(name);
      body.metadata.labels.team = team;
      assert.equal((await api(cp.url + VS_PATH, { method: 'POST', body })).status, 201);
    }
    const red = await api(`${cp.url}${VS_PATH}?labelSelector=${encodeURIComponent('team=red')}`);
    assert.deepEqual(
      (red.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
      ['a1'],
    );
    const all = await api(`${cp.url}/apis/networking.istio.io/v1/virtualservices?labelSelector=team`);
    assert.ok((all.body.items as unknown[]).length >= 2, 'want the cross-namespace list to hold both');
    assert.equal(all.body.kind, 'VirtualServiceList');
  });

  it('admission: refuses an invalid object with 422 naming the field, and stores nothing', async () => {
    const bad = virtualService('bad', {});
    (bad.spec.http[0] as Record<string, unknown>).timeout = 'soon';
    const res = await api(cp.url + VS_PATH, { method: 'POST', body: bad });
    assert.equal(res.status, 422, `want 422, got ${res.status}`);
    assert.equal(res.body.code, 'ALDER_CONFIG_INVALID');
    assert.match(
      String(res.body.message),
      /VirtualService default\/bad: spec\.http\[0\]\.timeout: must be a duration/,
    );
    assert.equal((await api(`${cp.url}${VS_PATH}/bad`)).status, 404, 'want nothing stored');
  });

  it('apply: a multi-document apply with one bad document stores nothing', async () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: good-one}
spec:
  hosts: [good-one]
  http: [{route: [{destination: {host: good-one}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad-one}
spec:
  hosts: [bad-one]
  http:
  - route:
    - destination: {host: bad-one}
      weight: 120
`;
    const res = await api(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      body: { sources: [{ name: 'mixed.yaml', text }] },
    });
    assert.equal(res.status, 422, `want 422, got ${res.status} ${JSON.stringify(res.body)}`);
    assert.match(
      String(res.body.message),
      /mixed\.yaml:16 VirtualService default\/bad-one: spec\.http\[0\]\.route\[0\]\.weight: must be between 0 and 100, got 120/,
    );
    assert.equal(
      (await api(`${cp.url}${VS_PATH}/good-one`)).status,
      404,
      'want the good document not stored either',
    );
  });

  it('apply: stores every object and reports created, then unchanged, then configured', async () => {
    const text = (weight: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: ${weight}
    - destination: {host: reviews, subset: v2}
      weight: ${100 - weight}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reviews}
`;
    const actions = async (weight: number) => {
      const res = await api(`${cp.url}/alder/v1/apply`, {
        method: 'POST',
        body: { sources: [{ name: 'r.yaml', text: text(weight) }] },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.results as { action: string }[]).map((r) => r.action);
    };
    assert.deepEqual(await actions(80), ['created', 'created']);
    assert.deepEqual(await actions(80), ['unchanged', 'unchanged']);
    assert.deepEqual(await actions(50), ['configured', 'unchanged']);
  });

  it('admission: a Gateway is stored with a Warning header saying no proxy enforces it yet', async () => {
    const res = await api(`${cp.url}/apis/networking.istio.io/v1/namespaces/default/gateways`, {
      method: 'POST',
      body: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'edge' },
        spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(
      res.headers.get('warning'),
      '299 - "Gateway default/edge: stored but not enforced yet: Alder runs no gateway proxies in this version, so nothing listens on their servers"',
      'want a Kubernetes-style Warning header',
    );
    const applied = await api(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      body: {
        sources: [
          {
            name: 'edge.yaml',
            text: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge-too}\nspec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}\n---\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt}\nspec: {jwtRules: [{issuer: https://issuer.example}]}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing}\nspec: {action: ALLOW}\n',
          },
        ],
      },
    });
    assert.deepEqual(
      applied.body.notEnforced,
      [
        {
          kind: 'Gateway',
          count: 1,
          reason: 'Alder runs no gateway proxies in this version, so nothing listens on their servers',
        },
      ],
      'want the batch answer to list the kinds not enforced yet (RequestAuthentication and AuthorizationPolicy are enforced)',
    );
  });

  it('limits: refuses a body over the limit with 413', async () => {
    const huge = 'x'.repeat(9 * 1024 * 1024);
    const res = await api(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      body: { sources: [{ name: 'big.yaml', text: huge }] },
    });
    assert.equal(res.status, 413, `want 413, got ${res.status}`);
    assert.equal(res.body.code, 'ALDER_REQUEST_TOO_LARGE');
  });

  it('errors: unknown paths answer 404 and wrong methods 405, as JSON Status', async () => {
    const unknown = await api(`${cp.url}/apis/networking.istio.io/v1/namespaces/default/widgets`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.kind, 'Status');
    const wrong = await api(`${cp.url}${VS_PATH}`, { method: 'DELETE' });
    assert.equal(wrong.status, 405);
  });

  it('concurrency: of 8 conflicting updates from one version exactly one wins, the others get 409', async () => {
    const created = await api(cp.url + VS_PATH, { method: 'POST', body: virtualService('contended') });
    const version = (created.body.metadata as Record<string, string>).resourceVersion;
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const body = virtualService('contended');
        (body.metadata as Record<string, unknown>).resourceVersion = version;
        body.metadata.labels.writer = `w${i}`;
        return api(`${cp.url}${VS_PATH}/contended`, { method: 'PUT', body });
      }),
    );
    const statuses = attempts.map((a) => a.status).sort();
    assert.deepEqual(
      statuses,
      [200, 409, 409, 409, 409, 409, 409, 409],
      `want one 200 and seven 409, got ${statuses}`,
    );
  });

  it('watch: streams every change after a version, in order, and resumes from the last one seen', async () => {
    const start = await api(cp.url + VS_PATH);
    const from = (start.body.metadata as Record<string, string>).resourceVersion;
    const names = ['w1', 'w2', 'w3', 'w4'];
    for (const name of names.slice(0, 2))
      await api(cp.url + VS_PATH, { method: 'POST', body: virtualService(name) });

    const first = await readWatch(`${cp.url}${VS_PATH}?watch=true&resourceVersion=${from}`, 2);
    assert.deepEqual(
      first.map((e) => `${e.type} ${e.name}`),
      ['ADDED w1', 'ADDED w2'],
    );
    const last = first.at(-1)?.resourceVersion;

    for (const name of names.slice(2))
      await api(cp.url + VS_PATH, { method: 'POST', body: virtualService(name) });
    await api(`${cp.url}${VS_PATH}/w1`, { method: 'DELETE' });
    const rest = await readWatch(`${cp.url}${VS_PATH}?watch=true&resourceVersion=${last}`, 3);
    assert.deepEqual(
      rest.map((e) => `${e.type} ${e.name}`),
      ['ADDED w3', 'ADDED w4', 'DELETED w1'],
      'want exactly the changes after the last version seen',
    );
    const versions = [...first, ...rest].map((e) => Number(e.resourceVersion));
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      'want versions increasing',
    );
  });

  it('curl: a real HTTP client reads the Kubernetes-style paths', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '-f',
      '-H',
      `Authorization: Bearer ${cp.token}`,
      `${cp.url}${VS_PATH}?labelSelector=app%3Dw2`,
    ]);
    const list = JSON.parse(stdout) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ['w2'],
    );
  });
});

interface SeenEvent {
  type: string;
  name: string;
  resourceVersion: string;
}

/** Reads `count` events from a watch stream, then closes it; fails after 10 s. */
async function readWatch(url: string, count: number): Promise<SeenEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  const res = await fetch(url, {
    signal: controller.signal,
    headers: { authorization: `Bearer ${tokenFor(url)}` },
  });
  assert.equal(res.status, 200, `watch: want 200, got ${res.status}`);
  const events: SeenEvent[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const e = JSON.parse(buffer.slice(0, nl)) as {
          type: string;
          object: { metadata: { name: string; resourceVersion: string } };
        };
        events.push({
          type: e.type,
          name: e.object.metadata.name,
          resourceVersion: e.object.metadata.resourceVersion,
        });
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
      }
      if (events.length >= count) break;
    }
  } catch (err) {
    if (controller.signal.aborted)
      assert.fail(`watch: want ${count} events within 10s, got ${events.length}`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}
