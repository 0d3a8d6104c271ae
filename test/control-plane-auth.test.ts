// The control plane's API needs the admin token (or an admin client certificate on the mesh port) on
// every path but the health ones: a real `alder control-plane`, called with fetch, node:https with
// client certificates from the mesh CA, and the `alder` CLI as a user runs it.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, createKeyAndCsr } from '../src/identity/index.ts';
import { alder, api, type RunningControlPlane, removeDir, startControlPlane, tempDir } from './harness.ts';

const VS = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';
const vs = (name: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: name } }] }] },
});
const source = (name: string) => ({ sources: [{ name: 'a.yaml', text: JSON.stringify(vs(name)) }] });

/** Every API endpoint, and what it answers the admin (any status but 401/403 shows it let the call in). */
const ENDPOINTS: { name: string; method: string; path: string; body?: unknown; want: number }[] = [
  { name: 'list', method: 'GET', path: VS, want: 200 },
  {
    name: 'list across namespaces',
    method: 'GET',
    path: '/apis/networking.istio.io/v1/virtualservices',
    want: 200,
  },
  { name: 'core list', method: 'GET', path: '/api/v1/namespaces/default/services', want: 200 },
  { name: 'create', method: 'POST', path: VS, body: vs('auth-a'), want: 201 },
  { name: 'get', method: 'GET', path: `${VS}/auth-a`, want: 200 },
  { name: 'replace', method: 'PUT', path: `${VS}/auth-a`, body: vs('auth-a'), want: 200 },
  { name: 'delete', method: 'DELETE', path: `${VS}/auth-a`, want: 200 },
  { name: 'MeshConfig', method: 'GET', path: '/apis/mesh.alder.dev/v1alpha1/meshconfigs/default', want: 404 },
  { name: 'apply', method: 'POST', path: '/alder/v1/apply', body: source('auth-b'), want: 200 },
  { name: 'batch delete', method: 'POST', path: '/alder/v1/delete', body: source('auth-b'), want: 200 },
  { name: 'token list', method: 'GET', path: '/alder/v1/tokens', want: 200 },
  {
    name: 'token create',
    method: 'POST',
    path: '/alder/v1/tokens',
    body: { namespace: 'shop', serviceAccount: 'web' },
    want: 201,
  },
  { name: 'token revoke', method: 'DELETE', path: '/alder/v1/tokens/000000000000', want: 404 },
  { name: 'CA', method: 'GET', path: '/alder/v1/ca', want: 200 },
  {
    name: 'CA rotate (bad overlap)',
    method: 'POST',
    path: '/alder/v1/ca/rotate',
    body: { overlap: 5 },
    want: 400,
  },
  { name: 'proxy status', method: 'GET', path: '/alder/v1/proxy-status', want: 200 },
  { name: 'metrics', method: 'GET', path: '/metrics', want: 200 },
  { name: 'unknown path', method: 'GET', path: '/nowhere', want: 404 },
];

describe('control plane API authentication', () => {
  let cp: RunningControlPlane;
  let dir: string;
  before(async () => {
    dir = tempDir('auth');
    cp = await startControlPlane({ dataDir: join(dir, 'cp') });
  });
  after(async () => {
    await cp.stop();
    removeDir(dir);
  });

  it('auth: the first start writes the admin token once, 0600, and keeps only its hash', () => {
    const file = join(cp.dataDir, 'admin-token');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'want admin-token readable by its owner only');
    assert.match(cp.token, /^alder-admin\.[A-Za-z0-9_-]{43}$/, 'want a 32-byte random token');
    const kept = readFileSync(join(cp.dataDir, 'api-tokens.json'), 'utf8');
    assert.ok(!kept.includes(cp.token.split('.')[1] as string), 'want no plain token in api-tokens.json');
  });

  for (const e of ENDPOINTS) {
    it(`auth: ${e.name} (${e.method} ${e.path}) answers 401 without a token or with a wrong one, ${e.want} with the admin token`, async () => {
      const call = (token: string | null) =>
        api(cp.url + e.path, { method: e.method, token, ...(e.body === undefined ? {} : { body: e.body }) });
      for (const [label, token] of [
        ['no token', null],
        ['a wrong token', 'alder-admin.wrong'],
      ] as const) {
        const r = await call(token);
        assert.equal(r.status, 401, `${label}: want 401, got ${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'ALDER_UNAUTHENTICATED', `${label}: want the Status code`);
        assert.equal(
          r.headers.get('www-authenticate'),
          'Bearer realm="alder"',
          `${label}: want the challenge`,
        );
      }
      const ok = await call(cp.token);
      assert.equal(
        ok.status,
        e.want,
        `admin token: want ${e.want}, got ${ok.status} ${JSON.stringify(ok.body)}`,
      );
    });
  }

  it('auth: /healthz, /livez, /readyz and /version answer without a token', async () => {
    for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
      const r = await api(cp.url + path, { token: null });
      assert.equal(r.status, 200, `${path}: want 200 without a token, got ${r.status}`);
    }
  });

  it('auth: a watch needs the token too', async () => {
    const res = await fetch(`${cp.url}${VS}?watch=true`);
    assert.equal(res.status, 401, `watch without a token: want 401, got ${res.status}`);
    await res.body?.cancel();
  });

  it('auth: on the mesh port an admin client certificate is admin, a workload certificate gets 403', async () => {
    const ca = await CertificateAuthority.open({ dir: join(cp.dataDir, 'ca'), trustDomain: 'cluster.local' });
    const issue = async (namespace: string, serviceAccount: string) => {
      const { keyPem, csrPem } = await createKeyAndCsr();
      const issued = await ca.issueWorkload(csrPem, { namespace, serviceAccount });
      return { key: keyPem, cert: issued.chainPem };
    };
    const trust = ca.trustBundle();
    const admin = await issue('alder-system', 'admin');
    const workload = await issue('shop', 'web');
    const mesh = cp.meshUrl as string;
    const cases = [
      { name: 'admin certificate', client: admin, want: 200 },
      { name: 'admin certificate, create', client: admin, want: 201, method: 'POST', body: vs('by-cert') },
      { name: 'workload certificate', client: workload, want: 403 },
      { name: 'no certificate, no token', client: undefined, want: 401 },
      { name: 'no certificate, the admin token', client: undefined, want: 200, token: cp.token },
    ];
    for (const c of cases) {
      const r = await httpsCall(mesh + VS, {
        ca: trust,
        ...(c.client ?? {}),
        ...(c.token === undefined ? {} : { token: c.token }),
        ...(c.method === undefined ? {} : { method: c.method, body: JSON.stringify(c.body) }),
      });
      assert.equal(r.status, c.want, `${c.name}: want ${c.want}, got ${r.status} ${r.body}`);
    }
  });

  it('cli: finds the token in --token, ALDER_TOKEN or the data dir, and says what to do on 401', async () => {
    const empty = tempDir('no-token');
    const without = { ALDER_TOKEN: '', ALDER_DATA_DIR: empty };
    const refused = await alder(['get', 'vs'], { server: cp.url, env: without });
    assert.equal(refused.code, 1, `no token: want exit 1, got ${refused.code}`);
    assert.match(
      refused.stderr,
      /error: .*refused the request/,
      `want the refusal named; got ${refused.stderr}`,
    );
    assert.match(
      refused.stderr,
      /hint: .*--token.*ALDER_TOKEN.*admin-token/,
      `want where the token is; got ${refused.stderr}`,
    );
    for (const [name, args, env] of [
      ['--token', ['--token', cp.token], without],
      ['ALDER_TOKEN', [], { ...without, ALDER_TOKEN: cp.token }],
      ['ALDER_DATA_DIR', [], { ALDER_TOKEN: '', ALDER_DATA_DIR: cp.dataDir }],
    ] as const) {
      const r = await alder(['get', 'vs', ...args], { server: cp.url, env });
      assert.equal(r.code, 0, `${name}: want exit 0; stderr: ${r.stderr}`);
    }
    removeDir(empty);
  });

  it('cli: an https:// --server is trusted with --ca and reached over TLS', async () => {
    const env = { ALDER_TOKEN: '', ALDER_DATA_DIR: cp.dataDir };
    const mesh = cp.meshUrl as string;
    const untrusted = await alder(['get', 'vs'], { server: mesh, env });
    assert.equal(untrusted.code, 1, 'without --ca: want exit 1');
    assert.match(untrusted.stderr, /hint: .*--ca/, `want a hint to pass --ca; got ${untrusted.stderr}`);
    const ca = join(cp.dataDir, 'ca', 'root-cert.pem');
    const r = await alder(['get', 'vs', '--ca', ca], { server: mesh, env });
    assert.equal(r.code, 0, `with --ca: want exit 0; stderr: ${r.stderr}`);
  });

  it('auth: a restart reuses the stored token and leaves the file alone', async () => {
    const before = readFileSync(join(cp.dataDir, 'admin-token'), 'utf8');
    assert.equal(await cp.stop(), 0, 'want a clean stop');
    cp = await startControlPlane({ dataDir: cp.dataDir });
    assert.equal(
      readFileSync(join(cp.dataDir, 'admin-token'), 'utf8'),
      before,
      'want the token file unchanged',
    );
    const r = await api(cp.url + VS, { token: before.trim() });
    assert.equal(r.status, 200, `the first start's token after a restart: want 200, got ${r.status}`);
  });
});

function httpsCall(
  url: string,
  o: { ca: string; key?: string; cert?: string; token?: string; method?: string; body?: string },
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        headers,
        ca: o.ca,
        ...(o.key === undefined ? {} : { key: o.key, cert: o.cert }),
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 10s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
