// Table tests of hashKeyOf for each of Istio's consistentHash sources, and the cookie Envoy
// generates when it is absent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HashKey } from '../../wire/index.ts';
import { hashHex } from './hash.ts';
import { type HashKeyResult, type HashRequestView, hashKeyOf } from './hash-key.ts';

function view(headers: Record<string, string>, query = '', sourceIp = '10.1.2.3'): HashRequestView {
  return {
    header: (name) => headers[name],
    sourceIp,
    query,
    connection: { remote: `${sourceIp}:50000`, local: '10.9.9.9:9080' },
  };
}

const generated = hashHex('10.1.2.3:5000010.9.9.9:9080');
const cases: { name: string; hashOn: HashKey; view: HashRequestView; want: HashKeyResult }[] = [
  {
    name: 'a header',
    hashOn: { header: 'x-user' },
    view: view({ 'x-user': 'jason' }),
    want: { hashKey: 'jason', setCookie: undefined },
  },
  {
    name: 'a missing header',
    hashOn: { header: 'x-user' },
    view: view({}),
    want: { hashKey: undefined, setCookie: undefined },
  },
  {
    name: 'the source IP',
    hashOn: { sourceIp: true },
    view: view({}, '', '192.168.0.7'),
    want: { hashKey: '192.168.0.7', setCookie: undefined },
  },
  {
    name: 'a query parameter',
    hashOn: { queryParameter: 'user' },
    view: view({}, 'a=1&user=ann&user=bob'),
    want: { hashKey: 'ann', setCookie: undefined },
  },
  {
    name: 'a query parameter without a value',
    hashOn: { queryParameter: 'user' },
    view: view({}, 'user&a=1'),
    want: { hashKey: '', setCookie: undefined },
  },
  {
    name: 'a missing query parameter',
    hashOn: { queryParameter: 'user' },
    view: view({}, 'username=x'),
    want: { hashKey: undefined, setCookie: undefined },
  },
  {
    name: 'a cookie sent (quoted)',
    hashOn: { cookie: { name: 'sticky', ttlMs: 60_000 } },
    view: view({ cookie: 'a=1; sticky="abc"; b=2' }),
    want: { hashKey: 'abc', setCookie: undefined },
  },
  {
    name: 'a missing cookie with a TTL: generated',
    hashOn: { cookie: { name: 'sticky', path: '/api', ttlMs: 3_600_000 } },
    view: view({ cookie: 'other=1' }),
    want: { hashKey: generated, setCookie: `sticky="${generated}"; Max-Age=3600; Path=/api; HttpOnly` },
  },
  {
    name: 'a missing cookie with TTL 0: a session cookie',
    hashOn: { cookie: { name: 'sticky', ttlMs: 0 } },
    view: view({}),
    want: { hashKey: generated, setCookie: `sticky="${generated}"; HttpOnly` },
  },
  {
    name: 'a missing cookie without a TTL: no key',
    hashOn: { cookie: { name: 'sticky' } },
    view: view({}),
    want: { hashKey: undefined, setCookie: undefined },
  },
];
for (const c of cases) {
  test(`hash key: ${c.name}`, () => {
    assert.deepEqual(hashKeyOf(c.hashOn, c.view), c.want);
  });
}
