// Table tests of the framing value checks: Content-Length numbers, Transfer-Encoding codings,
// Connection options and list splitting.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONN_CLOSE,
  CONN_FRAMING,
  CONN_INVALID,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  connectionOptions,
  parseContentLength,
  tokenList,
  transferEncodingReason,
} from './framing.ts';

test('parseContentLength: digits only, up to 2^53-1', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['005', 5],
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', -2],
    ['18446744073709551621', -2],
    ['', -1],
    ['+1', -1],
    ['-1', -1],
    ['1 ', -1],
    ['1,1', -1],
    ['0x1', -1],
  ];
  for (const [input, want] of cases)
    assert.equal(parseContentLength(input), want, `Content-Length ${JSON.stringify(input)}`);
});

test('transferEncodingReason: only one final chunked passes', () => {
  const cases: [string, string | null][] = [
    ['chunked', null],
    ['CHUNKED', null],
    ['gzip, chunked', 'te-unsupported'],
    ['chunked, chunked', 'te-chunked-repeated'],
    ['chunked, gzip', 'te-not-chunked'],
    ['identity', 'te-not-chunked'],
    ['chunked;q=1', 'te-invalid'],
    ['chunked,', 'te-invalid'],
    ['', 'te-invalid'],
  ];
  for (const [input, want] of cases)
    assert.equal(transferEncodingReason(input), want, `TE ${JSON.stringify(input)}`);
});

test('connectionOptions: bits per option, framing names flagged, bad lists invalid', () => {
  const cases: [string, number][] = [
    ['close', CONN_CLOSE],
    ['Keep-Alive', CONN_KEEP_ALIVE],
    ['keep-alive, Upgrade', CONN_KEEP_ALIVE | CONN_UPGRADE],
    [' , close ,', CONN_CLOSE],
    ['x-foo', 0],
    ['Transfer-Encoding', CONN_FRAMING],
    ['close;x', CONN_INVALID],
  ];
  for (const [input, want] of cases)
    assert.equal(connectionOptions(input), want, `Connection ${JSON.stringify(input)}`);
});

test('tokenList: lower-cases, trims OWS, treats empty elements per flag', () => {
  assert.deepEqual(tokenList('A, b ,\tC', false), ['a', 'b', 'c']);
  assert.deepEqual(tokenList('a,,b', true), ['a', 'b']);
  assert.equal(tokenList('a,,b', false), null);
  assert.equal(tokenList('a b', true), null);
});
