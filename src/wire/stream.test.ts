import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMessage, LineReader, PING_LINE } from './stream.ts';

describe('stream', () => {
  it('stream: PING_LINE is a ping as encodeMessage writes it', () => {
    assert.equal(PING_LINE, encodeMessage({ ping: {} }));
  });

  it('stream: a line reader says when it holds part of a line', () => {
    const r = new LineReader(1024);
    assert.deepEqual(r.push(Buffer.from('{"ping"')), []);
    assert.equal(r.isMidLine, true, 'want mid-line after half a line');
    assert.deepEqual(r.push(Buffer.from(':{}}\n')), ['{"ping":{}}']);
    assert.equal(r.isMidLine, false, 'want no partial line after its end');
  });
});
