// Table tests of stripHopByHop: the fixed hop-by-hop set, fields named by Connection, TE: trailers,
// upgrades, and the no-copy fast path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripHopByHop } from './hop-by-hop.ts';

const cases: { name: string; input: string[]; isUpgrade?: boolean; want: string[] }[] = [
  {
    name: 'strips the fixed hop-by-hop set',
    input: [
      'host',
      'a',
      'connection',
      'keep-alive',
      'keep-alive',
      'timeout=5',
      'proxy-connection',
      'keep-alive',
      'trailer',
      'x-sum',
      'transfer-encoding',
      'chunked',
      'upgrade',
      'websocket',
      'x-a',
      '1',
    ],
    want: ['host', 'a', 'x-a', '1'],
  },
  {
    name: 'strips fields that Connection names, in any case and on any Connection line',
    input: [
      'connection',
      'X-Secret, close',
      'x-secret',
      's',
      'connection',
      'x-other',
      'x-other',
      'o',
      'x-keep',
      'k',
    ],
    want: ['x-keep', 'k'],
  },
  {
    name: 'keeps TE only as trailers',
    input: ['te', 'trailers, deflate;q=0.5', 'connection', 'TE', 'x-a', '1'],
    want: ['te', 'trailers', 'x-a', '1'],
  },
  { name: 'drops TE without trailers', input: ['te', 'gzip', 'x-a', '1'], want: ['x-a', '1'] },
  {
    name: 'keeps Upgrade and one Connection: upgrade when upgrading',
    input: [
      'host',
      'a',
      'connection',
      'keep-alive, Upgrade',
      'upgrade',
      'websocket',
      'sec-websocket-key',
      'k',
    ],
    isUpgrade: true,
    want: ['host', 'a', 'connection', 'upgrade', 'upgrade', 'websocket', 'sec-websocket-key', 'k'],
  },
  {
    name: 'never strips Host or Content-Length even when named',
    input: ['connection', 'host, content-length', 'host', 'a', 'content-length', '1'],
    want: ['host', 'a', 'content-length', '1'],
  },
];

for (const c of cases) {
  test(`stripHopByHop: ${c.name}`, () => {
    assert.deepEqual(stripHopByHop(c.input, c.isUpgrade), c.want);
  });
}

test('stripHopByHop: returns the same array when nothing is hop-by-hop', () => {
  const headers = ['host', 'a', 'accept', '*/*'];
  assert.equal(stripHopByHop(headers), headers);
});
