// WorkloadGroup through a real `alder control-plane`: stored on its Kubernetes path under every
// version alias, listed by `alder get wg`, and refused with the field named when its template sets
// an address.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alder, api, type RunningControlPlane, removeDir, startControlPlane } from './harness.ts';

const PATH = '/apis/networking.istio.io/v1/namespaces/bookinfo/workloadgroups';

function group(name: string, template: Record<string, unknown>) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadGroup',
    metadata: { name },
    spec: {
      metadata: { labels: { app: 'reviews' } },
      template,
      probe: { periodSeconds: 4, httpGet: { path: '/healthz', port: 9080 } },
    },
  };
}

describe('control plane: WorkloadGroup', () => {
  let cp: RunningControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    const code = await cp.stop();
    removeDir(cp.dataDir);
    assert.equal(code, 0, 'want a clean exit (0) on SIGTERM');
  });

  it('stores a WorkloadGroup and serves it under v1, v1beta1 and v1alpha3', async () => {
    const body = group('reviews', { ports: { http: 9080 }, serviceAccount: 'reviews' });
    const created = await api(cp.url + PATH, { method: 'POST', body });
    assert.equal(
      created.status,
      201,
      `create: want 201, got ${created.status} ${JSON.stringify(created.body)}`,
    );
    for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
      const got = await api(
        `${cp.url}/apis/networking.istio.io/${version}/namespaces/bookinfo/workloadgroups/reviews`,
      );
      assert.equal(
        got.status,
        200,
        `get ${version}: want 200, got ${got.status} ${JSON.stringify(got.body)}`,
      );
      assert.equal(got.body.apiVersion, `networking.istio.io/${version}`);
      assert.deepEqual(got.body.spec, body.spec, `get ${version}: want the spec back unchanged`);
    }
  });

  it('alder get wg lists it with its service account and probe', async () => {
    const out = await alder(['get', 'wg', '-n', 'bookinfo'], { server: cp.url });
    assert.equal(out.code, 0, `want exit 0, got ${out.code}: ${out.stderr}`);
    assert.match(out.stdout, /reviews\s+reviews\s+httpGet :9080\/healthz/, `got:\n${out.stdout}`);
  });

  it('refuses a template with an address with 422 naming the field, and stores nothing', async () => {
    const res = await api(cp.url + PATH, {
      method: 'POST',
      body: group('pinned', { address: '10.0.0.5' }),
    });
    assert.equal(res.status, 422, `want 422, got ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'ALDER_CONFIG_INVALID');
    assert.match(
      String(res.body.message),
      /WorkloadGroup bookinfo\/pinned: spec\.template\.address: must not be set in a WorkloadGroup template/,
    );
    assert.equal((await api(`${cp.url}${PATH}/pinned`)).status, 404, 'want nothing stored');
  });
});
