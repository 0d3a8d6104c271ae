// Table tests of path normalization under each MeshConfig setting: Envoy's normalize_path cases
// (test/common/http/path_utility_test.cc) and Istio's normalization integration table
// (tests/integration/security/normalization_test.go), plus what only HTTP/2 can bring.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PathNormalization, type PathRefusal, pathNormalizer } from './normalize-path.ts';

type Want = string | PathRefusal['reason'];
type Modes = Exclude<PathNormalization, 'NONE'>;

interface Case {
  name: string;
  target: string;
  /** The same for BASE, MERGE_SLASHES and DECODE_AND_MERGE_SLASHES, unless `by` says otherwise. */
  want?: Want;
  by?: Partial<Record<Modes, Want>>;
}

const cases: Case[] = [
  { name: 'root', target: '/', want: '/' },
  { name: 'a plain path', target: '/public/a', want: '/public/a' },
  { name: 'a dot inside a segment', target: '/v1.2/index.html', want: '/v1.2/index.html' },
  { name: 'a segment that starts with a dot', target: '/.well-known/x', want: '/.well-known/x' },
  { name: 'a current-directory segment', target: '/public/./a', want: '/public/a' },
  { name: 'a parent segment', target: '/public/../admin', want: '/admin' },
  { name: 'parents past the root', target: '/a/b/../../../c', want: '/c' },
  { name: 'a parent at the root', target: '/..', want: '/' },
  { name: 'parents first', target: '/../../a', want: '/a' },
  { name: 'a trailing parent keeps its slash', target: '/a/b/..', want: '/a/' },
  { name: 'a trailing current directory keeps its slash', target: '/a/b/.', want: '/a/b/' },
  { name: 'a current directory before a trailing slash', target: '/a/./', want: '/a/' },
  { name: 'an encoded unreserved letter', target: '/%70ublic', want: '/public' },
  { name: 'encoded digits, tilde, dash, underscore', target: '/%7E%7eu%2D%5f%30', want: '/~~u-_0' },
  { name: 'encoded dots as a parent', target: '/a/%2e%2e/b', want: '/b' },
  { name: 'an encoded dot and a dot', target: '/a/%2E./b', want: '/b' },
  { name: 'an encoded dot alone', target: '/a/%2e/b', want: '/a/b' },
  { name: 'an encoded dot ending a name', target: '/admin%2e', want: '/admin.' },
  {
    name: 'reserved escapes kept, hex case too',
    target: '/a%20b%3a%3F%c0%af%25',
    want: '/a%20b%3a%3F%c0%af%25',
  },
  { name: 'no double decoding', target: '/%252e%252e/admin', want: '/%252e%252e/admin' },
  { name: 'three dots are a name', target: '/.../admin', want: '/.../admin' },
  { name: 'dots with a parameter are a name', target: '/..;/admin', want: '/..;/admin' },
  {
    name: 'a leading double slash',
    target: '//admin',
    by: { BASE: '//admin', MERGE_SLASHES: '/admin', DECODE_AND_MERGE_SLASHES: '/admin' },
  },
  { name: 'a parent after an empty segment', target: '/app//../admin', want: '/app/admin' },
  { name: 'parents after an empty segment', target: '/app//../../admin', want: '/admin' },
  {
    name: 'a double slash after decoding',
    target: '/xyz%30..//abc',
    by: { BASE: '/xyz0..//abc', MERGE_SLASHES: '/xyz0../abc', DECODE_AND_MERGE_SLASHES: '/xyz0../abc' },
  },
  {
    name: '%2F',
    target: '/a/%2Fb',
    by: { BASE: '/a/%2Fb', MERGE_SLASHES: '/a/%2Fb', DECODE_AND_MERGE_SLASHES: '/a/b' },
  },
  {
    name: '%2f around dots',
    target: '/public/..%2fadmin',
    by: {
      BASE: '/public/..%2fadmin',
      MERGE_SLASHES: '/public/..%2fadmin',
      DECODE_AND_MERGE_SLASHES: '/admin',
    },
  },
  {
    name: '%5C',
    target: '/a/%5Cb%5c',
    by: { BASE: '/a/%5Cb%5c', MERGE_SLASHES: '/a/%5Cb%5c', DECODE_AND_MERGE_SLASHES: '/a/b/' },
  },
  { name: 'a backslash', target: '/app\\admin', want: '/app/admin' },
  { name: 'backslashes around a parent', target: '/a\\..\\b', want: '/b' },
  {
    name: 'backslashes and slashes',
    target: '/app/\\/\\/\\admin',
    by: { BASE: '/app//////admin', MERGE_SLASHES: '/app/admin', DECODE_AND_MERGE_SLASHES: '/app/admin' },
  },
  {
    name: "Istio's mixed escapes",
    target: '/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc',
    by: {
      BASE: '/%5Capp%2f%5c%2F..%2fadmin%5c/abc',
      MERGE_SLASHES: '/%5Capp%2f%5c%2F..%2fadmin%5c/abc',
      DECODE_AND_MERGE_SLASHES: '/app/admin/abc',
    },
  },
  {
    name: 'overlong UTF-8 kept',
    target: '/%c0%2e%c0%2e/%c0%2fadmin',
    by: {
      BASE: '/%c0.%c0./%c0%2fadmin',
      MERGE_SLASHES: '/%c0.%c0./%c0%2fadmin',
      DECODE_AND_MERGE_SLASHES: '/%c0.%c0./%c0/admin',
    },
  },
  { name: 'the query is kept', target: '/a/../b?x=/../y&z=%2F//%zz', want: '/b?x=/../y&z=%2F//%zz' },
  {
    name: 'slashes in the query are not merged',
    target: '/a//b?c//d',
    by: { BASE: '/a//b?c//d', MERGE_SLASHES: '/a/b?c//d', DECODE_AND_MERGE_SLASHES: '/a/b?c//d' },
  },
  { name: 'an empty query', target: '/a/./b?', want: '/a/b?' },
  { name: 'a bad escape in the query only', target: '/a?%zz', want: '/a?%zz' },
  { name: '%00', target: '/admin%00', want: 'escaped-nul' },
  { name: '%00 between dots', target: '/xyz/.%00../abc', want: 'escaped-nul' },
  { name: 'a bad escape', target: '/a%zz', want: 'bad-escape' },
  { name: 'a nested bad escape', target: '/AAAAA%%0000/abc', want: 'bad-escape' },
  { name: 'a short escape', target: '/a%2', want: 'bad-escape' },
  { name: 'a percent last', target: '/a%', want: 'bad-escape' },
  { name: 'an escape cut by the query', target: '/a%4?1', want: 'bad-escape' },
  { name: 'a fragment', target: '/a#b', want: 'fragment' },
  { name: 'HTTP/2: a quote and brackets percent-encoded', target: '/a"b<c>', want: '/a%22b%3Cc%3E' },
  { name: 'HTTP/2: a byte above ASCII percent-encoded', target: '/caf\u00e9', want: '/caf%E9' },
  { name: 'HTTP/2: a character beyond a byte', target: '/a\u0100', want: 'bad-char' },
  { name: 'asterisk form', target: '*', want: '*' },
  { name: 'authority form (CONNECT)', target: 'reviews:9080', want: 'reviews:9080' },
  { name: 'absolute form', target: 'http://web:8080/a/../b?q=/../', want: 'http://web:8080/b?q=/../' },
  {
    name: 'absolute form with a double slash',
    target: 'http://web//x',
    by: { BASE: 'http://web//x', MERGE_SLASHES: 'http://web/x', DECODE_AND_MERGE_SLASHES: 'http://web/x' },
  },
  { name: 'absolute form without a path', target: 'http://web:8080', want: 'http://web:8080' },
  { name: 'absolute form with a query only', target: 'http://web?a=/../', want: 'http://web?a=/../' },
];

const MODES: Modes[] = ['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

function outcome(result: string | PathRefusal): Want {
  return typeof result === 'string' ? result : result.reason;
}

describe('normalize-path', () => {
  for (const mode of MODES) {
    const normalize = pathNormalizer(mode);
    describe(mode, () => {
      for (const c of cases) {
        const want = c.by?.[mode] ?? c.want;
        it(`${mode}: ${c.name}: ${JSON.stringify(c.target)} → ${JSON.stringify(want)}`, () => {
          assert.equal(
            outcome(normalize(c.target)),
            want,
            `${mode}: want ${JSON.stringify(c.target)} to become ${JSON.stringify(want)}`,
          );
        });
      }
    });
  }

  it('NONE: every target is left as sent, refusals included', () => {
    const normalize = pathNormalizer('NONE');
    for (const c of cases) {
      assert.equal(normalize(c.target), c.target, `NONE: want ${JSON.stringify(c.target)} untouched`);
    }
  });

  it('each setting is idempotent: a normalized path normalizes to itself', () => {
    for (const mode of MODES) {
      const normalize = pathNormalizer(mode);
      for (const c of cases) {
        const once = normalize(c.target);
        if (typeof once !== 'string') continue;
        assert.equal(normalize(once), once, `${mode}: want ${JSON.stringify(once)} (from ${c.target}) kept`);
      }
    }
  });

  it('a refusal says what is wrong in words', () => {
    const refused = pathNormalizer('BASE')('/admin%00');
    assert.equal(typeof refused, 'object', 'want a refusal for %00');
    assert.match((refused as PathRefusal).words, /%00, an encoded NUL/, 'want the refusal to name %00');
  });
});
