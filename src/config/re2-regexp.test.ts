import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRe2, translateRe2 } from './re2-regexp.ts';

// [RE2 pattern, input, whether RE2 matches the whole input]
const anchored: [string, string, boolean][] = [
  ['/api/.*', '/api/v1', true],
  ['/api/.*', '/apix', false],
  ['a|ab', 'ab', true],
  ['(?i)abc', 'ABC', true],
  ['(?i)abc', 'ABD', false],
  ['a(?i)b|c', 'C', true],
  ['a(?i)b|c', 'aB', true],
  ['a(?i)b|c', 'AB', false],
  ['((?i)a)b', 'Ab', true],
  ['((?i)a)b', 'AB', false],
  ['(?i:A)b', 'ab', true],
  ['(?i)a(?-i)b', 'Ab', true],
  ['(?i)a(?-i)b', 'AB', false],
  ['.', '\n', false],
  ['.', '\r', true],
  ['(?s).', '\n', true],
  ['(?U)a+', 'aaa', true],
  ['(?m)a$\\nb', 'a\nb', true],
  ['^/x$', '/x', true],
  ['/x\\z', '/x', true],
  ['\\A/x', '/x', true],
  ['/api\\-v1\\_x\\/y\\@z', '/api-v1_x/y@z', true],
  ['[[:digit:]]+', '123', true],
  ['[[:alpha:]_]+', 'a_b', true],
  ['\\Qa.b\\E', 'a.b', true],
  ['\\Qa.b\\E', 'axb', false],
  ['(?P<id>\\d+)', '42', true],
  ['(?<id>\\d+)', '42', true],
  ['\\pL+', 'héllo', true],
  ['\\p{Greek}+', 'αβγ', true],
  ['\\PN', '5', false],
  ['[]a]+', ']a', true],
  ['\\x{41}\\x42', 'AB', true],
  ['[\\-a]', '-', true],
  ['\\s', '\u000b', false],
  ['\\s', ' ', true],
  ['/users/{id}', '/users/{id}', true],
  ['a{2,3}', 'aaa', true],
  ['a{2,3}', 'aaaa', false],
  ['\\a', '\u0007', true],
  ['\\0', '\u0000', true],
];

// [RE2 pattern, what the refusal names]
const refused: [string, RegExp][] = [
  ['(?=x)', /look-around/],
  ['(?<!x)y', /look-around/],
  ['(a)\\1', /back reference/],
  ['(?P<n>a)(?P=n)', /back references/],
  ['\\C', /any byte/],
  ['a{1001}', /RE2's limit of 1000/],
  ['(ab', /missing closing \)/],
  ['ab)', /unmatched \)/],
  ['[ab', /missing closing \]/],
  ['\\Z', /unknown escape/],
  ['[[:^alpha:]x]', /negated POSIX/],
  ['[[:nope:]]', /unknown POSIX class/],
  ['a**', /Nothing to repeat|nothing to repeat/i],
];

describe('translateRe2', () => {
  for (const [pattern, input, want] of anchored) {
    it(`re2: ${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
      const re = compileRe2(pattern, 'anchored');
      assert.equal(
        re.test(input),
        want,
        `want ${want} for ${pattern} (as /${re.source}/${re.flags}) on ${JSON.stringify(input)}`,
      );
    });
  }
  for (const [pattern, reason] of refused) {
    it(`re2: refuses ${JSON.stringify(pattern)}`, () => {
      assert.throws(
        () => translateRe2(pattern),
        (err: Error & { code?: string }) =>
          err.code === 'ALDER_SNAPSHOT_INVALID' &&
          err.message.includes(JSON.stringify(pattern)) &&
          reason.test(err.message),
        `want a refusal of ${pattern} naming ${reason}`,
      );
    });
  }
  it('re2: a leading (?i) becomes the i flag, not a modifier group', () => {
    const t = translateRe2('(?i)/api');
    assert.equal(t.flags, 'iu');
    assert.equal(t.source, '/api');
  });
  it('re2: counts capturing groups, named or not, and not (?:)', () => {
    assert.equal(translateRe2('(a)(?:b)(?P<c>c)((?i)d)').groups, 3);
  });
  it('re2: (?U) makes captures lazy in a global regex', () => {
    assert.equal('/a/b/c'.replace(compileRe2('(?U)/(.+)/', 'global'), '[$1]'), '[a]b/c');
    assert.equal('/a/b/c'.replace(compileRe2('/(.+)/', 'global'), '[$1]'), '[a/b]c');
  });
});
