// Requests a browser could be made to send, and malformed paths: a real `alder control-plane` called
// with node:http (which sets any Host and Origin), always with a valid admin token, so that what refuses
// these requests is the cross-site rules, not the missing credentials a browser would also have.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const VS = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';
const body = (name: string) =>
  JSON.stringify({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name } }] }] },
  });

describe('control plane API: cross-site requests and malformed paths', () => {
  let cp: RunningControlPlane;
  let port: string;
  before(async () => {
    cp = await startControlPlane({ args: ['--allowed-host', 'cp.example'] });
    port = new URL(cp.url).port;
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  const cases = [
    {
      name: 'a web page posting text/plain with its Origin and a rebound Host',
      host: () => `attacker.example:${port}`,
      headers: { origin: 'http://attacker.example', 'content-type': 'text/plain' },
      want: 421,
      code: 'ALDER_MISDIRECTED',
    },
    {
      name: 'a foreign Origin on a known Host',
      host: () => `127.0.0.1:${port}`,
      headers: { origin: 'http://attacker.example', 'content-type': 'application/json' },
      want: 403,
      code: 'ALDER_FORBIDDEN',
    },
    {
      name: 'Origin null (a sandboxed page)',
      host: () => `127.0.0.1:${port}`,
      headers: { origin: 'null', 'content-type': 'application/json' },
      want: 403,
      code: 'ALDER_FORBIDDEN',
    },
    {
      name: 'an unknown Host with JSON',
      host: () => `attacker.example:${port}`,
      headers: { 'content-type': 'application/json' },
      want: 421,
      code: 'ALDER_MISDIRECTED',
    },
    {
      name: 'a text/plain write on a known Host',
      host: () => `127.0.0.1:${port}`,
      headers: { 'content-type': 'text/plain' },
      want: 415,
      code: 'ALDER_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a form post',
      host: () => `localhost:${port}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      want: 415,
      code: 'ALDER_UNSUPPORTED_MEDIA_TYPE',
    },
  ];
  for (const [i, c] of cases.entries()) {
    it(`cross-site: ${c.name} answers ${c.want} and stores nothing`, async () => {
      const name = `cross-${i}`;
      const r = await raw(
        cp.url,
        'POST',
        VS,
        { host: c.host(), authorization: `Bearer ${cp.token}`, ...c.headers },
        body(name),
      );
      assert.equal(r.status, c.want, `want ${c.want}, got ${r.status} ${r.body}`);
      assert.equal(JSON.parse(r.body).code, c.code, `want code ${c.code}; got ${r.body}`);
      const stored = await api(`${cp.url}${VS}/${name}`);
      assert.equal(stored.status, 404, `want nothing stored, got ${stored.status}`);
    });
  }

  const allowed = [
    { name: 'its own Origin', host: () => `127.0.0.1:${port}`, origin: () => `http://127.0.0.1:${port}` },
    { name: 'localhost', host: () => `localhost:${port}`, origin: () => undefined },
    { name: 'an --allowed-host name', host: () => `cp.example:${port}`, origin: () => undefined },
    { name: 'YAML', host: () => `[::1]:${port}`, origin: () => undefined, type: 'application/yaml' },
  ];
  for (const [i, c] of allowed.entries()) {
    it(`cross-site: a write with ${c.name} is served`, async () => {
      const origin = c.origin();
      const r = await raw(
        cp.url,
        'POST',
        VS,
        {
          host: c.host(),
          authorization: `Bearer ${cp.token}`,
          'content-type': c.type ?? 'application/json',
          ...(origin === undefined ? {} : { origin }),
        },
        body(`allowed-${i}`),
      );
      assert.equal(r.status, 201, `want 201, got ${r.status} ${r.body}`);
    });
  }

  it('cross-site: health paths answer any Host (probes call by pod address)', async () => {
    const r = await raw(cp.url, 'GET', '/healthz', { host: 'probe.example' });
    assert.equal(r.status, 200, `want 200, got ${r.status}`);
  });

  for (const path of [
    '/apis/networking.istio.io/v1/namespaces/%E0%A4%A/virtualservices',
    `${VS}/%ZZ`,
    '/alder/v1/tokens/%E0%A4',
  ]) {
    it(`paths: a malformed percent-encoding answers 400 naming it (${path})`, async () => {
      const r = await raw(cp.url, 'GET', path, {
        host: `127.0.0.1:${port}`,
        authorization: `Bearer ${cp.token}`,
      });
      assert.equal(r.status, 400, `want 400, got ${r.status} ${r.body}`);
      const status = JSON.parse(r.body) as { code: string; message: string };
      assert.equal(status.code, 'ALDER_REQUEST_INVALID');
      assert.match(
        status.message,
        /malformed percent-encoding/,
        `want the cause named; got ${status.message}`,
      );
    });
  }
});

function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  payload?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
