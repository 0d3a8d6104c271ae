// Tests of the outbound side: head serialization (and its refusal of bytes that would split a head),
// chunk re-framing helpers, and a round trip through the parsers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK_END, chunkHeader, encodeChunk, LAST_CHUNK, lastChunk } from './chunk-writer.ts';
import { serializeRequestHead, serializeResponseHead } from './head-writer.ts';
import { RequestParser } from './request-parser.ts';

test('head writer: request head is one string in wire format', () => {
  const head = serializeRequestHead('GET', '/a?b=1', ['host', 'a.example', 'x-a', '']);
  assert.equal(head, 'GET /a?b=1 HTTP/1.1\r\nhost: a.example\r\nx-a: \r\n\r\n');
});

test('head writer: response head keeps obs-text values byte for byte (latin1)', () => {
  const head = serializeResponseHead(200, 'OK', ['x-name', 'caf\xe9']);
  assert.equal(head, 'HTTP/1.1 200 OK\r\nx-name: caf\xe9\r\n\r\n');
  assert.equal(serializeResponseHead(204, '', []), 'HTTP/1.1 204 \r\n\r\n');
});

test('head writer: refuses bytes that would split or smuggle', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['CRLF in a value', () => serializeRequestHead('GET', '/', ['x', 'a\r\nHost: evil']), /control byte/],
    ['LF in a value', () => serializeResponseHead(200, 'OK', ['x', 'a\nb']), /control byte/],
    ['NUL in a value', () => serializeResponseHead(200, 'OK', ['x', 'a\0']), /control byte/],
    ['space in a name', () => serializeRequestHead('GET', '/', ['x y', '1']), /not a token/],
    ['colon in a name', () => serializeRequestHead('GET', '/', ['x:', '1']), /not a token/],
    ['empty name', () => serializeRequestHead('GET', '/', ['', '1']), /not a token/],
    ['space in the target', () => serializeRequestHead('GET', '/a b', []), /target/],
    ['CRLF in the target', () => serializeRequestHead('GET', '/\r\n', []), /target/],
    ['non-ASCII in the target', () => serializeRequestHead('GET', '/é', []), /target/],
    ['space in the method', () => serializeRequestHead('G T', '/', []), /method/],
    ['CR in the status text', () => serializeResponseHead(200, 'O\rK', []), /status text/],
    ['status 1000', () => serializeResponseHead(1000, 'x', []), /status/],
    ['odd header array', () => serializeResponseHead(200, 'OK', ['x']), /pairs/],
  ];
  for (const [name, fn, want] of cases) assert.throws(fn, want, name);
});

test('chunk writer: size lines in hex, last chunk with and without trailers', () => {
  assert.equal(chunkHeader(255), 'ff\r\n');
  assert.throws(() => chunkHeader(0), /positive/);
  assert.equal(encodeChunk(Buffer.from('hello')).toString(), '5\r\nhello\r\n');
  assert.equal(CHUNK_END, '\r\n');
  assert.equal(lastChunk(null), LAST_CHUNK);
  assert.equal(lastChunk(['x-sum', '5']), '0\r\nx-sum: 5\r\n\r\n');
  assert.throws(() => lastChunk(['x', 'a\r\n']), /control byte/);
});

test('round trip: what the writers produce, the strict parser accepts unchanged', () => {
  const headers = ['host', 'a.example', 'transfer-encoding', 'chunked', 'x-a', 'caf\xe9'];
  const wire = Buffer.concat([
    Buffer.from(serializeRequestHead('POST', '/up', headers), 'latin1'),
    encodeChunk(Buffer.from('abc')),
    Buffer.from(lastChunk(['x-sum', '3']), 'latin1'),
  ]);
  const got: unknown[] = [];
  const parser = new RequestParser({
    onHead: (h) => got.push(h.headers),
    onBody: (c) => got.push(c.toString()),
    onEnd: (t) => got.push(t),
    onError: (e) => got.push(e.reason),
  });
  assert.equal(parser.execute(wire), wire.length);
  assert.deepEqual(got, [headers, 'abc', ['x-sum', '3']]);
});
