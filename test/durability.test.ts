// Durability: kill -9 of the control plane in the middle of a stream of writes loses no write it
// acknowledged, and versions keep increasing after the restart.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api, removeDir, startControlPlane } from './harness.ts';

const SA_PATH = '/api/v1/namespaces/durable/serviceaccounts';

describe('durability', () => {
  it('kill -9 during writes: every acknowledged write survives and versions stay monotonic', async (t) => {
    const first = await startControlPlane();
    t.after(() => removeDir(first.dataDir));
    const acknowledged: { name: string; version: number }[] = [];
    const target = 150;
    let killed: Promise<void> | undefined;

    // Two writers, each writing sequentially, until the process dies under them.
    const writer = async (id: number) => {
      for (let i = 0; ; i++) {
        const name = `sa-${id}-${i}`;
        let res: Awaited<ReturnType<typeof api>>;
        try {
          res = await api(first.url + SA_PATH, {
            method: 'POST',
            body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
          });
        } catch {
          return; // the connection died with the process: this write was never acknowledged
        }
        if (res.status !== 201) return;
        acknowledged.push({
          name,
          version: Number((res.body.metadata as Record<string, string>).resourceVersion),
        });
        if (acknowledged.length >= target) killed ??= first.kill();
      }
    };
    await Promise.all([writer(1), writer(2)]);
    await killed;
    assert.ok(
      acknowledged.length >= target,
      `want at least ${target} acknowledged writes, got ${acknowledged.length}`,
    );

    const second = await startControlPlane({ dataDir: first.dataDir });
    try {
      const list = await api(second.url + SA_PATH);
      const stored = new Map(
        (list.body.items as { metadata: { name: string; resourceVersion: string } }[]).map((i) => [
          i.metadata.name,
          Number(i.metadata.resourceVersion),
        ]),
      );
      const lost = acknowledged.filter((a) => stored.get(a.name) !== a.version);
      assert.deepEqual(
        lost,
        [],
        `want every acknowledged write present with its version after kill -9; lost ${lost.length}`,
      );

      for (const id of [1, 2]) {
        const mine = acknowledged.filter((a) => a.name.startsWith(`sa-${id}-`)).map((a) => a.version);
        assert.deepEqual(
          mine,
          [...mine].sort((a, b) => a - b),
          `writer ${id}: want versions increasing in acknowledgement order`,
        );
      }
      const after = await api(second.url + SA_PATH, {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'after-restart' } },
      });
      const newest = Math.max(...stored.values());
      const version = Number((after.body.metadata as Record<string, string>).resourceVersion);
      assert.ok(
        version > newest,
        `want the first version after restart (${version}) above every earlier one (${newest})`,
      );
    } finally {
      await second.stop();
    }
  });
});
