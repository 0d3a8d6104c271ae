// A child process for sqlite-store.test.ts, which starts it with `process.execPath`.
//   store-child.fixture.ts <path> write-loop   writes objects forever, printing "<revision> <name>" per
//                                              acknowledged write, until the parent kills it
//   store-child.fixture.ts <path> open         tries to open the store, prints "opened" or the error code

import { isAlderError } from '../../config/index.ts';
import { SqliteStore } from './sqlite-store.ts';

const [path, mode] = process.argv.slice(2);
if (path === undefined || (mode !== 'write-loop' && mode !== 'open')) {
  process.stderr.write('usage: store-child.fixture.ts <path> write-loop|open\n');
  process.exit(2);
}

if (mode === 'open') {
  try {
    await new SqliteStore({ path, busyTimeoutMs: 50 }).close();
    process.stdout.write('opened\n');
  } catch (err) {
    process.stdout.write(`${isAlderError(err) ? err.code : String(err)}\n`);
  }
} else {
  const store = new SqliteStore({ path });
  // Bounded so an orphan cannot run forever; the parent kills it long before.
  for (let i = 0; i < 100_000; i++) {
    const name = `obj-${i}`;
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'crash' },
      spec: { i },
    };
    const out = await store.write([{ op: 'apply', object }]);
    // stdout to a pipe is synchronous on Linux: once the parent reads this line, the write was acknowledged.
    process.stdout.write(`${out.revision} ${name}\n`);
  }
  await store.close();
}
