import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWebSocket, newWebSocketKey, webSocketAccept } from './websocket-handshake.ts';

test('websocket-handshake: accept of RFC 6455 §1.3 sample key', () => {
  assert.equal(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('websocket-handshake: a new key is 16 bytes in base64, fresh each time', () => {
  const a = newWebSocketKey();
  assert.equal(Buffer.from(a, 'base64').length, 16, `want 16 bytes, got key ${a}`);
  assert.notEqual(a, newWebSocketKey(), 'want a fresh key each call');
});

test('websocket-handshake: the websocket token in any case, nothing else', () => {
  for (const [token, want] of [
    ['websocket', true],
    ['WebSocket', true],
    ['h2c', false],
    ['websocket, foo', false],
    [undefined, false],
  ] as const) {
    assert.equal(isWebSocket(token), want, `isWebSocket(${String(token)}): want ${want}`);
  }
});
