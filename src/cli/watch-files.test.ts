import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTree } from './file-tree.ts';
import { watchFiles } from './watch-files.ts';

const YAML = /\.ya?ml$/;

/** What the watcher reported: the files' names and texts, or the read error's code. */
type Report = { files: string[] } | { error: string | undefined };

interface Case {
  name: string;
  /** Steps on the folder; after each, the watcher must report `want` next, or nothing on a look. */
  steps: { change(dir: string): void; want: Report | 'nothing' }[];
  /** Seen only by the poll: the folder's own watch goes with the folder. */
  needsPoll?: boolean;
}

const file = (name: string, text: string) => `${name}=${text}`;

const CASES: Case[] = [
  {
    name: 'a write in place, then a replace by rename, then a write in place again',
    steps: [
      { change: (d) => writeFileSync(join(d, 'a.yaml'), '2'), want: { files: [file('a.yaml', '2')] } },
      {
        change: (d) => {
          writeFileSync(join(d, 'a.yaml.tmp'), '3');
          renameSync(join(d, 'a.yaml.tmp'), join(d, 'a.yaml'));
        },
        want: { files: [file('a.yaml', '3')] },
      },
      { change: (d) => writeFileSync(join(d, 'a.yaml'), '4'), want: { files: [file('a.yaml', '4')] } },
    ],
  },
  {
    name: 'content rewritten unchanged, or a file that does not count, is no change',
    steps: [
      { change: (d) => writeFileSync(join(d, 'a.yaml'), '1'), want: 'nothing' },
      { change: (d) => writeFileSync(join(d, 'notes.txt'), 'x'), want: 'nothing' },
      { change: (d) => writeFileSync(join(d, 'a.yaml'), '5'), want: { files: [file('a.yaml', '5')] } },
    ],
  },
  {
    name: 'a file in a new subfolder, then a write to it',
    steps: [
      {
        change: (d) => {
          mkdirSync(join(d, 'sub'));
          writeFileSync(join(d, 'sub', 'b.yaml'), '1');
        },
        want: { files: [file('a.yaml', '1'), file('sub/b.yaml', '1')] },
      },
      {
        change: (d) => writeFileSync(join(d, 'sub', 'b.yaml'), '2'),
        want: { files: [file('a.yaml', '1'), file('sub/b.yaml', '2')] },
      },
    ],
  },
  {
    name: 'the folder removed, then made again',
    needsPoll: true,
    steps: [
      { change: (d) => rmSync(d, { recursive: true }), want: { error: 'ENOENT' } },
      {
        change: (d) => {
          mkdirSync(d);
          writeFileSync(join(d, 'a.yaml'), '6');
        },
        want: { files: [file('a.yaml', '6')] },
      },
    ],
  },
];

/** Collects reports; `next` resolves with the next one, or fails after `ms` saying what it waited for. */
function reports(dir: string) {
  const queue: Report[] = [];
  let wake: (() => void) | undefined;
  const push = (r: Report) => {
    queue.push(r);
    wake?.();
  };
  return {
    queue,
    onChange: (tree: Awaited<ReturnType<typeof readTree>>) =>
      push({ files: tree.files.map((f) => file(f.name.slice(dir.length + 1), f.text)) }),
    onError: (err: Error) => push({ error: (err as NodeJS.ErrnoException).code }),
    async next(want: Report, ms = 5000): Promise<Report> {
      const deadline = setTimeout(() => wake?.(), ms);
      while (queue.length === 0) {
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        await woken;
        if (queue.length === 0) {
          clearTimeout(deadline);
          throw new Error(`want the report ${JSON.stringify(want)} within ${ms}ms, got none`);
        }
      }
      clearTimeout(deadline);
      return queue.shift() as Report;
    },
  };
}

for (const pollMs of [60_000, 200]) {
  const how = pollMs === 60_000 ? 'by events alone' : 'with a 200 ms poll';
  describe(`watchFiles: reports each change of content, ${how}`, () => {
    for (const c of CASES) {
      const skip =
        c.needsPoll === true && pollMs === 60_000 ? 'only the poll sees a folder made again' : false;
      it(`watchFiles: ${c.name}`, { skip }, async (t) => {
        const root = mkdtempSync(join(tmpdir(), 'alder-watch-'));
        const dir = join(root, 'config');
        mkdirSync(dir);
        writeFileSync(join(dir, 'a.yaml'), '1');
        const seen = reports(dir);
        const w = watchFiles({
          path: dir,
          pattern: YAML,
          since: await readTree(dir, YAML),
          pollMs,
          settleMs: 20,
          ...seen,
        });
        t.after(() => {
          w.stop();
          rmSync(root, { recursive: true, force: true });
        });
        for (const [i, step] of c.steps.entries()) {
          step.change(dir);
          if (step.want === 'nothing') {
            await w.look();
            assert.deepEqual(seen.queue, [], `step ${i + 1}: want no report after a look`);
          } else {
            assert.deepEqual(await seen.next(step.want), step.want, `step ${i + 1}: want this report next`);
          }
        }
      });
    }
  });
}

describe('watchFiles: one file', () => {
  it('watchFiles: a file replaced by rename twice, then written in place: each reported', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'alder-watch-'));
    const path = join(root, 'snapshot.json');
    writeFileSync(path, '1');
    const seen = reports(root);
    const w = watchFiles({
      path,
      pattern: YAML,
      since: await readTree(path, YAML),
      pollMs: 60_000,
      settleMs: 20,
      ...seen,
    });
    t.after(() => {
      w.stop();
      rmSync(root, { recursive: true, force: true });
    });
    for (const [how, text] of [
      ['rename', '2'],
      ['rename', '3'],
      ['write', '4'],
    ] as const) {
      if (how === 'rename') {
        writeFileSync(`${path}.tmp`, text);
        renameSync(`${path}.tmp`, path);
      } else writeFileSync(path, text);
      const want = { files: [file('snapshot.json', text)] };
      assert.deepEqual(await seen.next(want), want, `after a ${how} to ${text}: want it reported`);
    }
  });
});
