import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { LineWriter } from './line-writer.ts';

/** A socket that takes each write a turn later, recording the bytes. */
function slowSocket() {
  const chunks: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setImmediate(callback);
    },
  });
  return { socket, chunks };
}

const drained = (w: LineWriter) =>
  new Promise<void>((resolve) => {
    const poll = () => (w.unsentChars === 0 ? resolve() : setTimeout(poll, 1));
    poll();
  });

describe('line writer', () => {
  it('line writer: a short line is one write', async () => {
    const { socket, chunks } = slowSocket();
    const w = new LineWriter(socket);
    w.write('{"push":{}}\n');
    await drained(w);
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['{"push":{}}\n'],
    );
  });

  it('line writer: a long line goes in pieces of at most 16 KiB, lines after it wait their turn', async () => {
    const { socket, chunks } = slowSocket();
    const w = new LineWriter(socket);
    const long = `${'a'.repeat(100_000)}\n`;
    w.write(long);
    w.write('short\n');
    assert.ok(w.unsentChars > 0, 'want the unsent characters counted while pieces wait');
    await drained(w);
    assert.ok(chunks.length > 6, `want several pieces, got ${chunks.length}`);
    assert.ok(
      chunks.every((c) => c.length <= 16 * 1024),
      'want no piece over 16 KiB',
    );
    assert.equal(Buffer.concat(chunks).toString(), `${long}short\n`);
  });

  it('line writer: a line given as parts is written as their join, long parts cut, short ones gathered', async () => {
    const { socket, chunks } = slowSocket();
    const w = new LineWriter(socket);
    const parts = ['{"push":[', 'x'.repeat(40_000), ',', '"y"', ',', 'z'.repeat(5), ']}\n'];
    w.write(['{"a":', '1}\n']);
    w.write(parts);
    await drained(w);
    assert.equal(Buffer.concat(chunks).toString(), `{"a":1}\n${parts.join('')}`);
    assert.ok(
      chunks.every((c) => c.length <= 16 * 1024),
      'want no piece over 16 KiB',
    );
    assert.equal(
      chunks.length,
      1 + 3,
      'want the short line in one write and 40 KiB of parts in three pieces',
    );
  });

  it('line writer: a piece never ends between the halves of a surrogate pair', async () => {
    const { socket, chunks } = slowSocket();
    const w = new LineWriter(socket);
    const line = `${'a'.repeat(16 * 1024 - 1)}😀${'b'.repeat(20_000)}\n`;
    w.write(line);
    await drained(w);
    assert.equal(Buffer.concat(chunks).toString(), line, 'want the emoji intact');
  });
});
