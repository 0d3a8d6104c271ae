// The table runner the kind tests share: each case is a YAML document loaded as file x.yaml, and the
// runner adds one subtest per case, "<Kind>: accepts <case>" or "<Kind>: refuses <case>". Only the kind
// test files use it; its name does not end in .test.ts, so the test runner does not run it alone.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatFinding, type LoadResult, loadSources } from '../index.ts';

/** A document the kind accepts: no error, its objects loaded, and no warning unless one is named. */
export interface AcceptCase {
  name: string;
  yaml: string;
  /** How many objects the YAML loads; 1 unless set. */
  objects?: number;
  /** The only warning the document draws, at this field path. */
  warning?: { path: string; message: RegExp };
}

/** A document the kind refuses: no object loaded, and an error at `path` whose message matches. */
export interface RefuseCase {
  name: string;
  yaml: string;
  path: string;
  message: RegExp;
  /** How many errors the document draws in all; 1 unless set. */
  count?: number;
}

export interface KindTable {
  good: readonly AcceptCase[];
  bad: readonly RefuseCase[];
  /** More checks on each accepted document's result, after the runner's own. */
  alsoAccepted?: (result: LoadResult) => void;
}

/** Loads one YAML text as the file x.yaml, the name every printed finding in these tests starts with. */
export function load(text: string): LoadResult {
  return loadSources([{ name: 'x.yaml', text }]);
}

/** Strips a YAML block's common margin and indents it by two spaces, to sit under `spec:`. */
export function indent(text: string): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const margin = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => (/^ */.exec(l) as RegExpExecArray)[0].length),
  );
  return lines.map((l) => `  ${l.slice(margin)}`).join('\n');
}

/** Adds a subtest per case to the enclosing describe; `kind` starts every subtest's name. */
export function runKindTable(kind: string, { good, bad, alsoAccepted }: KindTable): void {
  for (const c of good) {
    it(`${kind}: accepts ${c.name}`, () => {
      const result = load(c.yaml);
      assert.deepEqual(result.errors.map(formatFinding), [], `want no error for ${c.name}`);
      const objects = c.objects ?? 1;
      assert.equal(
        result.resources.length,
        objects,
        `want ${objects} object(s) loaded, got ${result.resources.length}`,
      );
      const warnings = result.warnings.map(formatFinding);
      if (c.warning === undefined) {
        assert.deepEqual(warnings, [], `want no warning for ${c.name}`);
      } else {
        const want = `a warning at ${c.warning.path} matching ${c.warning.message}`;
        assert.equal(warnings.length, 1, `want only ${want}, got ${JSON.stringify(warnings)}`);
        assert.equal(
          result.warnings[0]?.path,
          c.warning.path,
          `want ${want}, got ${JSON.stringify(warnings)}`,
        );
        assert.match(result.warnings[0]?.message ?? '', c.warning.message, `want ${want}`);
      }
      alsoAccepted?.(result);
    });
  }

  for (const c of bad) {
    it(`${kind}: refuses ${c.name}`, () => {
      const result = load(c.yaml);
      const shown = result.errors.map(formatFinding).join('\n');
      const count = c.count ?? 1;
      assert.equal(result.errors.length, count, `want ${count} error(s), got:\n${shown}`);
      const hit = result.errors.find((e) => e.path === c.path && c.message.test(e.message));
      assert.ok(hit, `want an error at ${c.path} matching ${c.message}, got:\n${shown}`);
      assert.equal(
        result.resources.length,
        0,
        `want the object refused, got ${result.resources.length} loaded`,
      );
    });
  }
}
