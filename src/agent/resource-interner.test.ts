import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceDelta, WireResource } from '../wire/index.ts';
import { ResourceInterner } from './resource-interner.ts';

/** A delta as each workload's message parses it: fresh objects every time. */
const parsed = (version: string): ResourceDelta =>
  JSON.parse(
    JSON.stringify({
      cluster: { upsert: [{ name: 'outbound|9080||reviews', version, body: { name: 'x' } }], remove: [] },
      endpoints: {
        upsert: [{ name: 'outbound|9080||reviews', version, body: { rows: [] } }],
        remove: ['gone'],
      },
    }),
  ) as ResourceDelta;

const first = (d: ResourceDelta, type: 'cluster' | 'endpoints'): WireResource | undefined =>
  d[type]?.upsert[0];

describe('resource interner', () => {
  it('interner: two workloads pushed the same version of a resource hold one object; another version stays its own', () => {
    const interner = new ResourceInterner();
    const a = interner.delta(parsed('v1'));
    const b = interner.delta(parsed('v1'));
    const c = interner.delta(parsed('v2'));
    assert.equal(first(b, 'cluster'), first(a, 'cluster'), 'want the second push to get the first object');
    assert.equal(first(b, 'endpoints'), first(a, 'endpoints'));
    assert.notEqual(first(c, 'cluster'), first(a, 'cluster'), 'want a new version kept apart');
    assert.notEqual(
      first(a, 'cluster'),
      first(a, 'endpoints'),
      'want resources of one name but two types kept apart',
    );
    assert.deepEqual(b.endpoints?.remove, ['gone'], 'want removals passed through');
    assert.equal(interner.size, 4);
  });
});
