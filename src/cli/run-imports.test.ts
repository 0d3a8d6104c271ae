// An `alder run` served by the node proxy only supervises its app: it must load none of the proxy
// (a sidecar run loads it on demand, with a dynamic import). Walks the static imports from the
// command's module, as Node loads them at start.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..');
const STATIC_IMPORT = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;

/** Every module loaded with `file`, by the static value imports (type-only ones are erased). */
function staticClosure(file: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of readFileSync(f, 'utf8').matchAll(STATIC_IMPORT)) walk(join(dirname(f), m[1] as string));
  };
  walk(file);
  return seen;
}

describe('alder run loads', () => {
  it('run: the command loads no proxy module and not the whole agent until it hosts a sidecar', () => {
    const loaded = [...staticClosure(join(SRC, 'cli', 'commands', 'run.ts'))].map((f) => relative(SRC, f));
    const heavy = loaded.filter(
      (f) => f.startsWith('proxy/') || f === 'agent/index.ts' || f === 'wire/codec.ts',
    );
    assert.deepEqual(
      heavy,
      [],
      `want none of the proxy, the agent's index or the snapshot codec; loaded ${loaded.join(', ')}`,
    );
    assert.ok(
      loaded.includes('agent/node-socket.ts'),
      `want the walk to reach the node socket; got ${loaded.join(', ')}`,
    );
  });
});
