import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderOperations } from '../../wire/index.ts';
import { applyHeaderEdits, compileHeaderEdits } from './header-edits.ts';

interface Case {
  name: string;
  route?: HeaderOperations;
  destination?: HeaderOperations;
  isWeighted?: boolean;
  headers: string[];
  want: string[];
}

const cases: Case[] = [
  {
    name: 'set replaces every value',
    route: { request: { set: [['x', '1']] } },
    headers: ['x', 'a', 'y', 'b', 'x', 'c'],
    want: ['y', 'b', 'x', '1'],
  },
  {
    name: 'add appends',
    route: { request: { add: [['x', '1']] } },
    headers: ['x', 'a'],
    want: ['x', 'a', 'x', '1'],
  },
  {
    name: 'remove drops every value',
    route: { request: { remove: ['x'] } },
    headers: ['x', 'a', 'y', 'b', 'x', 'c'],
    want: ['y', 'b'],
  },
  {
    name: 'remove runs before set and add in a stage',
    route: { request: { remove: ['x'], add: [['x', 'added']], set: [['y', 'set']] } },
    headers: ['x', 'a', 'y', 'b'],
    want: ['y', 'set', 'x', 'added'],
  },
  {
    name: 'set then add on the same name',
    route: { request: { set: [['x', '1']], add: [['x', '2']] } },
    headers: ['x', 'a'],
    want: ['x', '1', 'x', '2'],
  },
  {
    name: 'empty values are skipped (Envoy)',
    route: { request: { set: [['x', '']], add: [['y', '']] } },
    headers: ['x', 'a'],
    want: ['x', 'a'],
  },
  {
    name: 'pseudo-headers and host are not edited',
    route: {
      request: {
        set: [
          [':path', '/x'],
          ['host', 'h'],
        ],
        remove: ['host'],
      },
    },
    headers: ['host', 'a'],
    want: ['host', 'a'],
  },
  {
    name: 'one destination: its set wins over the route set',
    route: { request: { set: [['x', 'route']] } },
    destination: { request: { set: [['x', 'dest']] } },
    headers: [],
    want: ['x', 'dest'],
  },
  {
    name: 'one destination: the route removes before the destination adds',
    route: { request: { remove: ['x'] } },
    destination: { request: { add: [['x', 'dest']] } },
    headers: ['x', 'a'],
    want: ['x', 'dest'],
  },
  {
    name: 'weighted: the destination runs first, so the route set wins',
    route: { request: { set: [['x', 'route']] } },
    destination: { request: { set: [['x', 'dest']] } },
    isWeighted: true,
    headers: [],
    want: ['x', 'route'],
  },
  {
    name: 'weighted: the route removes what the destination added',
    route: { request: { remove: ['x'] } },
    destination: { request: { add: [['x', 'dest']] } },
    isWeighted: true,
    headers: [],
    want: [],
  },
];

describe('header edits', () => {
  for (const c of cases) {
    it(`headers: ${c.name}`, () => {
      const plans = compileHeaderEdits(c.route, c.destination, c.isWeighted === true);
      const before = c.headers.slice();
      assert.deepEqual(applyHeaderEdits(plans.request, c.headers), c.want);
      assert.deepEqual(c.headers, before, 'the input headers were modified');
    });
  }
  it('headers: response edits apply to the response plan only', () => {
    const plans = compileHeaderEdits(
      { response: { set: [['cache-control', 'no-store']] } },
      undefined,
      false,
    );
    assert.deepEqual(applyHeaderEdits(plans.response, []), ['cache-control', 'no-store']);
    assert.equal(plans.request.stages.length, 0);
  });
  it('headers: an empty plan returns the input itself', () => {
    const h = ['a', 'b'];
    assert.equal(applyHeaderEdits(compileHeaderEdits(undefined, undefined, false).request, h), h);
  });
});
