// A full disk, simulated by capping the store's SQLite file (ALDER_TEST_STORE_MAX_PAGES, SQLite's
// max_page_count): writes answer 507 ALDER_STORE_FULL with where to free space, a refused batch
// stores none of its objects, /readyz says not ready and why, and the first write that fits again
// makes the control plane ready.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const VS = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';
const vs = (name: string, fillerBytes: number) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, annotations: { filler: 'x'.repeat(fillerBytes) } },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: name } }] }] },
});

describe('control plane API: a full disk', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane({ env: { ALDER_TEST_STORE_MAX_PAGES: '80' } });
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  it('disk full: 507 with a hint, nothing half-applied, not ready until a write succeeds', async () => {
    let full: Awaited<ReturnType<typeof api>> | undefined;
    const stored: string[] = [];
    for (let i = 0; i < 200 && full === undefined; i++) {
      const r = await api(cp.url + VS, { method: 'POST', body: vs(`fill-${i}`, 8_000) });
      if (r.status === 201) stored.push(`fill-${i}`);
      else full = r;
    }
    assert.ok(full !== undefined, 'want the capped store to fill up within 200 writes of 8 KB');
    assert.ok(stored.length > 0, 'want some writes to fit before it fills');
    assert.equal(
      full.status,
      507,
      `want 507 Insufficient Storage, got ${full.status} ${JSON.stringify(full.body)}`,
    );
    assert.equal(full.body.code, 'ALDER_STORE_FULL');
    assert.match(
      String(full.body.message),
      /full.*nothing was written/,
      `want the cause; got ${full.body.message}`,
    );
    assert.match(
      String(full.body.hint),
      new RegExp(`free space .*${cp.dataDir}`),
      `want where to free space; got ${full.body.hint}`,
    );

    const notReady = await api(`${cp.url}/readyz`);
    assert.equal(notReady.status, 503, `readyz while writes fail: want 503, got ${notReady.status}`);
    assert.match(
      String(notReady.body.reason),
      /full/,
      `readyz: want the reason; got ${JSON.stringify(notReady.body)}`,
    );
    assert.equal((await api(`${cp.url}/healthz`)).status, 200, 'healthz: want the process still alive');

    const listed = await api(cp.url + VS);
    const revision = (listed.body.metadata as { resourceVersion: string }).resourceVersion;
    const batch = ['batch-a', 'batch-b', 'batch-c'].map((n) => JSON.stringify(vs(n, 8_000))).join('\n---\n');
    const refused = await api(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      body: { sources: [{ name: 'batch.yaml', text: batch }] },
    });
    assert.equal(refused.status, 507, `batch apply: want 507, got ${refused.status}`);
    for (const name of ['batch-a', 'batch-b', 'batch-c']) {
      assert.equal((await api(`${cp.url}${VS}/${name}`)).status, 404, `want ${name} not stored`);
    }
    const after = await api(cp.url + VS);
    assert.equal(
      (after.body.metadata as { resourceVersion: string }).resourceVersion,
      revision,
      'want no revision taken',
    );

    // Space comes back (objects deleted), and the first write that fits makes it ready again.
    for (const name of stored.slice(0, 6)) {
      const d = await api(`${cp.url}${VS}/${name}`, { method: 'DELETE' });
      assert.ok(d.status === 200 || d.status === 507, `delete ${name}: want 200 or 507, got ${d.status}`);
    }
    const small = await api(cp.url + VS, { method: 'POST', body: vs('small', 10) });
    assert.equal(
      small.status,
      201,
      `a small write after freeing space: want 201, got ${small.status} ${JSON.stringify(small.body)}`,
    );
    const ready = await api(`${cp.url}/readyz`);
    assert.equal(
      ready.status,
      200,
      `readyz after a write succeeded: want 200, got ${JSON.stringify(ready.body)}`,
    );
  });
});
