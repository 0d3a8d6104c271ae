// Replays the raw-byte corpora through RequestParser: every hostile request in test/corpus/http1 must be
// refused with its expected status and reason, whole and in 1-byte and odd-sized pieces; every request
// in test/corpus/http1-valid must parse to its expected messages. The proxy replays the same files later.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Http1Rejection } from './errors.ts';
import { type RequestHead, RequestParser } from './request-parser.ts';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus');

interface Message {
  head: RequestHead;
  body: Buffer[];
  trailers: string[] | null;
}

interface Outcome {
  messages: Message[];
  error: Http1Rejection | null;
}

/** Feeds `raw` in pieces of `pieceBytes` (0: whole), looping execute() as the proxy will; then EOF. */
function run(raw: Buffer, pieceBytes: number): Outcome {
  const out: Outcome = { messages: [], error: null };
  const parser = new RequestParser({
    onHead: (head) => out.messages.push({ head, body: [], trailers: null }),
    onBody: (chunk) => out.messages.at(-1)?.body.push(Buffer.from(chunk)),
    onEnd: (trailers) => {
      const last = out.messages.at(-1);
      if (last) last.trailers = trailers;
    },
    onError: (rejection) => {
      assert.equal(out.error, null, 'onError must be called once');
      out.error = rejection;
    },
  });
  const size = pieceBytes === 0 ? raw.length : pieceBytes;
  for (let start = 0; start < raw.length && !parser.isDead; start += size) {
    const piece = raw.subarray(start, start + size);
    let i = 0;
    while (i < piece.length && !parser.isDead) {
      const next = parser.execute(piece, i);
      assert.ok(next > i || parser.isDead, 'execute() must make progress or fail');
      i = next;
    }
  }
  parser.finish();
  return out;
}

interface Rejected {
  status: number;
  reason: string;
  isAfterHead: boolean;
  note: string;
}

const badDir = join(CORPUS, 'http1');
const bad = JSON.parse(readFileSync(join(badDir, 'expected.json'), 'utf8')) as Record<string, Rejected>;

test('corpus http1: every file has an expectation and the other way round', () => {
  const files = readdirSync(badDir).filter((f) => f.endsWith('.http'));
  assert.deepEqual(files.sort(), Object.keys(bad).sort());
  assert.ok(files.length >= 160, `want at least 160 hostile requests, have ${files.length}`);
});

for (const [file, want] of Object.entries(bad)) {
  test(`corpus http1: ${file} (${want.note}) is refused ${want.status} ${want.reason}`, () => {
    const raw = readFileSync(join(badDir, file));
    for (const piece of [0, 1, 7]) {
      const got = run(raw, piece);
      const how = piece === 0 ? 'whole' : `in ${piece}-byte pieces`;
      const err = got.error;
      assert.ok(err, `${file} ${how}: want ${want.status} ${want.reason}, got accepted`);
      assert.deepEqual(
        [err.status, err.reason, err.isAfterHead],
        [want.status, want.reason, want.isAfterHead],
        `${file} ${how}: want ${want.status} ${want.reason} (after head: ${want.isAfterHead}), ` +
          `got ${err.status} ${err.reason} (after head: ${err.isAfterHead})`,
      );
    }
  });
}

interface Accepted {
  note: string;
  messages: { method: string; target: string; body: string; trailers?: string[]; headers?: string[] }[];
}

const goodDir = join(CORPUS, 'http1-valid');
const good = JSON.parse(readFileSync(join(goodDir, 'expected.json'), 'utf8')) as Record<string, Accepted>;

for (const [file, want] of Object.entries(good)) {
  test(`corpus http1-valid: ${file} is accepted`, () => {
    const raw = readFileSync(join(goodDir, file));
    for (const piece of [0, 1, 5]) {
      const got = run(raw, piece);
      const how = piece === 0 ? 'whole' : `in ${piece}-byte pieces`;
      assert.equal(
        got.error,
        null,
        `${file} ${how}: want accepted, got ${got.error?.status} ${got.error?.reason}`,
      );
      assert.equal(got.messages.length, want.messages.length, `${file} ${how}: message count`);
      want.messages.forEach((w, k) => {
        const m = got.messages[k] as Message;
        assert.equal(m.head.method, w.method, `${file} ${how}: message ${k} method`);
        assert.equal(m.head.target, w.target, `${file} ${how}: message ${k} target`);
        assert.equal(Buffer.concat(m.body).toString('latin1'), w.body, `${file} ${how}: message ${k} body`);
        if (w.trailers) assert.deepEqual(m.trailers, w.trailers, `${file} ${how}: message ${k} trailers`);
        if (w.headers) assert.deepEqual(m.head.headers, w.headers, `${file} ${how}: message ${k} headers`);
      });
    }
  });
}
