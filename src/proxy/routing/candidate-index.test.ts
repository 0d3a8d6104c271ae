import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StringMatch } from '../../wire/index.ts';
import { buildCandidateIndex, lookupSegment, segmentKey } from './candidate-index.ts';
import { re2LiteralPrefix } from './re2-literal-prefix.ts';

// [uri, ignoreUriCase, the first segment every matching path has (undefined: no claim)]
const keys: [StringMatch | undefined, boolean, string | undefined][] = [
  [{ exact: '/reviews' }, false, 'reviews'],
  [{ exact: '/reviews/1' }, false, 'reviews'],
  [{ exact: '/' }, false, ''],
  [{ exact: 'reviews' }, false, undefined],
  [{ prefix: '/reviews/' }, false, 'reviews'],
  [{ prefix: '/reviews' }, false, undefined],
  [{ prefix: '/' }, false, undefined],
  [{ prefix: '/reviews/' }, true, undefined],
  [{ regex: '/reviews/[0-9]+' }, false, 'reviews'],
  [{ regex: '/rev.*' }, false, undefined],
  [{ regex: '/a/b|/c/d' }, false, undefined],
  [{ regex: '(?i)/reviews/.*' }, false, undefined],
  [undefined, false, undefined],
];

// [RE2 pattern, literal prefix of every whole match]
const prefixes: [string, string][] = [
  ['/api/v[0-9]+', '/api/v'],
  ['^/api/x', '/api/x'],
  ['/api\\.v1/x', '/api.v1/x'],
  ['/ab*', '/a'],
  ['/ab+', '/a'],
  ['/a{2}', '/'],
  ['/a(b)', '/a'],
  ['/a|/b', ''],
  ['(/a|/b)/c', ''],
  ['[/]a', ''],
  ['\\Q/a\\E', ''],
  ['/a\\d', '/a'],
];

describe('candidate index', () => {
  for (const [uri, nocase, want] of keys) {
    it(`index: ${JSON.stringify(uri)}${nocase ? ' ignoring case' : ''} is keyed ${JSON.stringify(want)}`, () => {
      assert.equal(segmentKey(uri, nocase), want);
    });
  }
  for (const [pattern, want] of prefixes) {
    it(`index: ${JSON.stringify(pattern)} has literal prefix ${JSON.stringify(want)}`, () => {
      assert.equal(re2LiteralPrefix(pattern), want);
    });
  }
  it('index: looks up the first segment of a path, keeping positions ascending', () => {
    const index = buildCandidateIndex(['a', undefined, 'b', 'a', '']);
    assert.deepEqual([...lookupSegment(index, '/a/x')], [0, 3]);
    assert.deepEqual([...lookupSegment(index, '/a')], [0, 3]);
    assert.deepEqual([...lookupSegment(index, '/')], [4]);
    assert.deepEqual([...lookupSegment(index, '/zz')], []);
    assert.deepEqual([...index.always], [1]);
  });
});
