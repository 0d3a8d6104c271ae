// Seeded mutation fuzzing of RequestParser: valid corpus requests with bytes flipped, inserted or
// deleted must give the same outcome (messages or rejection reason) whole, byte by byte and in random
// pieces, and never throw. Guards the agreement between the fast paths and the state machine.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RequestParser } from './request-parser.ts';

const VALID = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus', 'http1-valid');
const INTERESTING = Buffer.from(' \t\r\n:;,_-"\\\x00\x0b\x7f\xff0aZ%/?#');

/** xorshift32: deterministic, so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function mutate(raw: Buffer, rand: () => number): Buffer {
  const bytes = [...raw];
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const byte = INTERESTING[Math.floor(rand() * INTERESTING.length)] as number;
    const kind = rand();
    if (kind < 0.4) bytes[at] = byte;
    else if (kind < 0.7) bytes.splice(at, 0, byte);
    else bytes.splice(at, 1);
  }
  return Buffer.from(bytes);
}

/** A transcript of everything the parser reported, given a way to cut the input. */
function transcript(raw: Buffer, cuts: number[]): string {
  const out: string[] = [];
  const parser = new RequestParser({
    onHead: (h) =>
      out.push(`head ${h.method} ${h.target} ${h.headers.join('|')} ${h.framing} ${h.isKeepAlive}`),
    onBody: (c) => out.push(`body ${c.toString('latin1')}`),
    onEnd: (t) => out.push(`end ${t?.join('|') ?? ''}`),
    onError: (e) => out.push(`error ${e.status} ${e.reason} ${e.isAfterHead}`),
  });
  let start = 0;
  for (const cut of [...cuts, raw.length]) {
    const piece = raw.subarray(start, cut);
    start = cut;
    let i = 0;
    while (i < piece.length && !parser.isDead) i = parser.execute(piece, i);
  }
  parser.finish();
  // Body pieces depend on the cuts; their concatenation must not.
  return out.join('\n').replace(/\nbody /g, '');
}

test('split consistency: mutated valid requests give one outcome however they are cut', () => {
  const files = readdirSync(VALID).filter((f) => f.endsWith('.http'));
  let runs = 0;
  for (const [n, file] of files.entries()) {
    const base = readFileSync(join(VALID, file));
    for (let round = 0; round < 40; round++) {
      const seed = n * 1000 + round + 1;
      const rand = rng(seed);
      const raw = mutate(base, rand);
      const whole = transcript(raw, []);
      const bytewise = transcript(
        raw,
        Array.from({ length: raw.length }, (_, k) => k),
      );
      const randomCuts = Array.from({ length: 6 }, () => Math.floor(rand() * raw.length)).sort(
        (a, b) => a - b,
      );
      const random = transcript(raw, randomCuts);
      assert.equal(bytewise, whole, `${file} seed ${seed}: 1-byte pieces differ from whole input`);
      assert.equal(random, whole, `${file} seed ${seed}: cuts ${randomCuts} differ from whole input`);
      runs++;
    }
  }
  assert.ok(runs >= 1000, `want at least 1000 fuzz runs, ran ${runs}`);
});
