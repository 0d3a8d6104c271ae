import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRe2 } from '../re2-regexp.ts';

// [RE2 pattern, input, whether RE2 matches the whole input]
const cases: [string, string, boolean][] = [
  ['(?i)abc', 'ABC', true],
  ['a(?i)b|c', 'C', true],
  ['a(?i)b|c', 'aB', true],
  ['a(?i)b|c', 'AB', false],
  ['((?i)a)b', 'Ab', true],
  ['((?i)a)b', 'AB', false],
  ['(?i:A)b', 'ab', true],
  ['(?s).', '\n', true],
  ['(?U)a+', 'aaa', true],
  ['^/api\\-v1\\_x$', '/api-v1_x', true],
  ['[[:digit:]]+\\z', '123', true],
  ['[[:alpha:]_]+', 'a_b', true],
  ['\\Qa.b\\E', 'a.b', true],
  ['\\Qa.b\\E', 'axb', false],
  ['(?P<id>\\d+)', '42', true],
  ['\\pL+', 'abc', true],
  ['[]a]+', ']a', true],
  ['\\x{41}', 'A', true],
  ['[\\-a]', '-', true],
  ['\\Aab', 'ab', true],
];

describe('RE2 patterns as validation accepts them', () => {
  for (const [pattern, input, want] of cases) {
    it(`re2: ${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
      const re = compileRe2(pattern, 'anchored');
      const got = re.test(input);
      assert.equal(
        got,
        want,
        `want ${want} for ${pattern} (as ${re.source}) on ${JSON.stringify(input)}, got ${got}`,
      );
    });
  }
});
