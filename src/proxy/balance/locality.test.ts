// Table tests of the locality rules Istio compiles: LocalityMatch, proximity priorities with
// failover, failoverPriority labels, their combination, and `distribute` weights.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalityPolicy } from '../../wire/index.ts';
import {
  labelPriority,
  localityMatches,
  parseLocality,
  planLocality,
  proximityPriority,
} from './locality.ts';
import { endpoint } from './test-support.ts';

const matchCases: { locality: string; rule: string; want: boolean }[] = [
  { locality: 'us-east/a/1', rule: 'us-east/a/1', want: true },
  { locality: 'us-east/a/1', rule: 'us-east/a/*', want: true },
  { locality: 'us-east/a/1', rule: 'us-east/*', want: true },
  { locality: 'us-east/a/1', rule: 'us-east', want: true },
  { locality: 'us-east/a/1', rule: '*', want: true },
  { locality: 'us-east/a/1', rule: 'us-east/b/*', want: false },
  { locality: 'us-east/a/1', rule: 'us-west/*', want: false },
  { locality: 'us-east/a/1', rule: 'us-east/a/2', want: false },
];
for (const c of matchCases) {
  test(`locality: ${c.locality} ${c.want ? 'matches' : 'does not match'} rule ${c.rule}`, () => {
    assert.equal(localityMatches(parseLocality(c.locality), c.rule), c.want);
  });
}

const proximityCases: {
  name: string;
  endpoint: string;
  failover?: LocalityPolicy['failover'];
  want: number;
}[] = [
  { name: 'same region/zone/subzone', endpoint: 'us-east/a/1', want: 0 },
  { name: 'same region/zone', endpoint: 'us-east/a/2', want: 1 },
  { name: 'same region', endpoint: 'us-east/b/1', want: 2 },
  { name: 'another region', endpoint: 'eu-west/a/1', want: 3 },
  {
    name: 'the failover target region',
    endpoint: 'eu-west/a/1',
    failover: [{ from: 'us-east', to: 'eu-west' }],
    want: 3,
  },
  {
    name: 'a region that is not the failover target',
    endpoint: 'ap-south/a/1',
    failover: [{ from: 'us-east', to: 'eu-west' }],
    want: 4,
  },
  {
    name: 'another region when no failover entry is from ours',
    endpoint: 'ap-south/a/1',
    failover: [{ from: 'eu-west', to: 'us-east' }],
    want: 3,
  },
];
for (const c of proximityCases) {
  test(`locality: proximity priority from us-east/a/1 to ${c.name} is ${c.want}`, () => {
    const got = proximityPriority(parseLocality('us-east/a/1'), parseLocality(c.endpoint), c.failover);
    assert.equal(got, c.want);
  });
}

const selfLabels = { network: 'n1', cluster: 'c1' };
const labelCases: { name: string; labels: Record<string, string>; order: string[]; want: number }[] = [
  {
    name: 'all labels match',
    labels: { network: 'n1', cluster: 'c1' },
    order: ['network', 'cluster'],
    want: 0,
  },
  {
    name: 'the first only',
    labels: { network: 'n1', cluster: 'c2' },
    order: ['network', 'cluster'],
    want: 1,
  },
  { name: 'not the first', labels: { network: 'n2', cluster: 'c1' }, order: ['network', 'cluster'], want: 2 },
  { name: 'absent on both sides', labels: { network: 'n1' }, order: ['network', 'zone-x'], want: 0 },
  { name: 'a value override', labels: { network: 'n9' }, order: ['network=n9'], want: 0 },
  { name: 'a value override that misses', labels: { network: 'n1' }, order: ['network=n9'], want: 1 },
  {
    name: 'a topology label read from the locality',
    labels: {},
    order: ['topology.kubernetes.io/region'],
    want: 0,
  },
];
for (const c of labelCases) {
  test(`locality: failoverPriority when ${c.name} is ${c.want}`, () => {
    const here = parseLocality('us-east/a/1');
    const got = labelPriority(
      { labels: selfLabels, locality: here },
      { labels: c.labels, locality: here },
      c.order,
    );
    assert.equal(got, c.want);
  });
}

const eps = [
  endpoint('near', { locality: 'us-east/a/1', labels: { network: 'n1' } }),
  endpoint('zone', { locality: 'us-east/b/1', labels: { network: 'n1' } }),
  endpoint('far', { locality: 'eu-west/a/1', labels: { network: 'n1' } }),
  endpoint('other-net', { locality: 'us-east/a/1', labels: { network: 'n2' } }),
];
const self = { locality: 'us-east/a/1', labels: { network: 'n1' } };
const planCases: { name: string; policy: LocalityPolicy | undefined; want: number[] }[] = [
  { name: 'no locality policy: one priority', policy: undefined, want: [0, 0, 0, 0] },
  { name: 'proximity, compressed to 0..2', policy: {}, want: [0, 1, 2, 0] },
  {
    name: 'failoverPriority alone ranks by labels only',
    policy: { failoverPriority: ['network'] },
    want: [0, 0, 0, 1],
  },
  {
    name: 'failoverPriority with failover: labels first, then proximity',
    policy: { failoverPriority: ['network'], failover: [{ from: 'us-east', to: 'eu-west' }] },
    want: [0, 1, 2, 3],
  },
];
for (const c of planCases) {
  test(`locality: plan priorities (${c.name})`, () => {
    assert.deepEqual(planLocality(eps, self, c.policy).priorities, c.want);
  });
}

test('locality: distribute splits a pattern weight over the localities it claims, by endpoint weight', () => {
  const weighted = [
    endpoint('a1', { locality: 'us-east/a/1', weight: 3 }),
    endpoint('a2', { locality: 'us-east/a/2', weight: 1 }),
    endpoint('b', { locality: 'us-east/b/1' }),
    endpoint('x', { locality: 'eu-west/a/1' }),
  ];
  const policy: LocalityPolicy = {
    distribute: [
      { from: 'eu-west/*', to: { 'eu-west/*': 100 } },
      { from: 'us-east/a/*', to: { 'us-east/a/*': 90, 'us-east/b/*': 10 } },
    ],
  };
  const plan = planLocality(weighted, self, policy);
  assert.deepEqual(plan.priorities, [0, 0, 0, -1], 'x is in no `to` locality: left out');
  // 90 over weights 3 and 1: ceil(67.5) and ceil(22.5).
  assert.deepEqual(
    [...(plan.localityWeights ?? [])],
    [
      ['us-east/a/1', 68],
      ['us-east/a/2', 23],
      ['us-east/b/1', 10],
    ],
  );
});

test('locality: distribute without a rule from this locality leaves every endpoint in', () => {
  const plan = planLocality(eps, self, { distribute: [{ from: 'eu-west/*', to: { 'eu-west/*': 100 } }] });
  assert.deepEqual(plan, { priorities: [0, 0, 0, 0], localityWeights: undefined });
});
