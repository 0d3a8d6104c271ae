import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiTokens } from './api-tokens.ts';

test('ApiTokens: the first open makes the admin token, later opens verify it and leave the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alder-api-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = ApiTokens.open(dir);
  const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  assert.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600, 'want admin-token 0600');
  assert.deepEqual(first.verify(token), { name: 'admin', kind: 'admin' });
  writeFileSync(join(dir, 'admin-token'), 'changed by the operator\n');
  const again = ApiTokens.open(dir);
  assert.deepEqual(again.verify(token), { name: 'admin', kind: 'admin' }, 'want the stored hash reused');
  assert.equal(
    readFileSync(join(dir, 'admin-token'), 'utf8'),
    'changed by the operator\n',
    'want the file left',
  );
  for (const wrong of ['', 'alder-admin.x', `${token}x`, token.toUpperCase()]) {
    assert.equal(again.verify(wrong), undefined, `want ${JSON.stringify(wrong)} refused`);
  }
});

test('ApiTokens: a damaged api-tokens.json refuses to start, naming the file and the way out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alder-api-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'api-tokens.json'), '{"tokens":[{"name":"admin"}]}');
  assert.throws(
    () => ApiTokens.open(dir),
    (err: Error & { code?: string; hint?: string }) =>
      err.code === 'ALDER_STORE_UNAVAILABLE' &&
      err.message.includes('api-tokens.json') &&
      /move it away/.test(err.hint ?? ''),
  );
});
