// Every real Istio manifest in ../shared/istio-samples loads with no error, one file at a time
// (several files are alternatives to each other), and Bookinfo's platform manifest skips only the
// kinds Alder does not manage.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatFinding, loadSources } from '../src/config/index.ts';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'istio-samples');
const files = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('istio samples', () => {
  it('are all present (76 files)', () => {
    assert.equal(files.length, 76, `want 76 sample files in ${SAMPLES}, found ${files.length}`);
  });

  for (const file of files) {
    it(`validates ${file} with no error`, () => {
      const result = loadSources([{ name: file, text: readFileSync(join(SAMPLES, file), 'utf8') }]);
      assert.deepEqual(result.errors.map(formatFinding), [], `want no error in ${file}`);
      const istioKinds = result.skipped.filter(
        (s) => /istio\.io\//.test(s.apiVersion) && !s.apiVersion.startsWith('telemetry.'),
      );
      assert.deepEqual(istioKinds, [], `want every Istio kind in ${file} managed, some were skipped`);
    });
  }
});
