import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { emptyResourceSet, WIRE_VERSION, wireResource } from '../wire/index.ts';
import { loadResources, saveResources } from './resource-cache.ts';

const WORKLOAD = { namespace: 'shop', name: 'web' };
const dir = mkdtempSync(join(tmpdir(), 'alder-resource-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('resource cache', () => {
  it('resource cache: loads what it saved', () => {
    const set = emptyResourceSet();
    set.bundle.set('trust-bundle', wireResource<'bundle'>('trust-bundle', { pem: 'x' }));
    saveResources(dir, WORKLOAD, '7', set);
    const back = loadResources(dir, WORKLOAD);
    assert.equal(back?.revision, '7');
    assert.deepEqual(back?.set.bundle.get('trust-bundle'), set.bundle.get('trust-bundle'));
  });

  const ignored: { name: string; text: string }[] = [
    {
      name: 'a file of wire version 3 (no wireVersion, whole route tables)',
      text: JSON.stringify({
        workload: WORKLOAD,
        revision: '5',
        resources: {
          route: [{ name: 'outbound', version: 'v', body: { name: 'outbound', virtualHosts: [{}] } }],
        },
      }),
    },
    { name: 'a file of another wire version', text: JSON.stringify({ wireVersion: 99, workload: WORKLOAD }) },
    { name: 'not JSON', text: '{"wireVersion": 4, "work' },
    { name: 'JSON null', text: 'null' },
  ];
  for (const c of ignored) {
    it(`resource cache: ignores ${c.name}`, () => {
      writeFileSync(join(dir, 'resources.json'), c.text);
      assert.equal(loadResources(dir, WORKLOAD), undefined);
    });
  }

  it('resource cache: a file of this version with damaged resources loads what is whole', () => {
    writeFileSync(
      join(dir, 'resources.json'),
      JSON.stringify({
        wireVersion: WIRE_VERSION,
        workload: WORKLOAD,
        revision: '3',
        resources: { route: 'x', bundle: [null] },
      }),
    );
    const back = loadResources(dir, WORKLOAD);
    assert.equal(back?.set.route.size, 0);
    assert.equal(back?.set.bundle.size, 0);
  });
});
