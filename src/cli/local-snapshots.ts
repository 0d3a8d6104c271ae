// `alder proxy --config DIR`: reads Istio YAML from a folder, checks it as admission would, compiles
// this workload's snapshot with the control plane's compiler and encodes it for the wire, as the
// control plane will send it; again on each change. Loaded only for --config (it loads the compiler).

import { compileSnapshot } from '../compile/index.ts';
import { AlderError, ErrorCode, formatFinding, isAlderError, loadSources } from '../config/index.ts';
import { encodeSnapshot, type ProxyTls, type Snapshot } from '../wire/index.ts';
import { type FileTree, readTree } from './file-tree.ts';
import { openFileSource, type SnapshotSource } from './snapshot-source.ts';
import { CONFIG_FILE } from './sources.ts';

export interface LocalSnapshotOptions {
  dir: string;
  workload: { namespace: string; name: string };
  tls: ProxyTls | undefined;
  outboundProxy: { address: string; port: number } | null;
}

const HINT = 'fix the config folder; `alder validate -f DIR` lists every problem';

/** Compiles the folder now (throwing an AlderError with every problem) and after each change. */
export function openConfigFolder(o: LocalSnapshotOptions): Promise<SnapshotSource> {
  return openFileSource({
    path: o.dir,
    pattern: CONFIG_FILE,
    encode: (tree) => encodeSnapshot(compileTree(tree, o)),
    hint: 'pass a folder of Istio YAML (.yaml/.yml/.json) to --config',
  });
}

/** Compiles the folder once, for `alder explain --config`; throws an AlderError with every problem. */
export async function compileFolder(o: LocalSnapshotOptions): Promise<Snapshot> {
  let tree: FileTree;
  try {
    tree = await readTree(o.dir, CONFIG_FILE);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AlderError(ErrorCode.RequestInvalid, `cannot read ${o.dir}: ${e.code ?? e.message}`, {
      hint: 'pass a folder of Istio YAML (.yaml/.yml/.json)',
    });
  }
  return compileTree(tree, o);
}

function compileTree(tree: FileTree, o: LocalSnapshotOptions): Snapshot {
  const loaded = loadSources(tree.files);
  const [first, ...more] = loaded.errors;
  if (first !== undefined) {
    // The first line names the first problem, so one-line views (/ready) say what is wrong.
    const count = more.length === 0 ? '' : ` (${more.length + 1} errors)`;
    throw new AlderError(
      ErrorCode.ConfigInvalid,
      [`config in ${o.dir} refused${count}: ${formatFinding(first)}`, ...more.map(formatFinding)].join('\n'),
      { hint: HINT },
    );
  }
  try {
    return compileSnapshot(
      loaded.resources.map((r) => r.resource),
      { workload: o.workload, tls: o.tls, outboundProxy: o.outboundProxy },
    );
  } catch (err) {
    if (isAlderError(err)) throw err;
    throw new AlderError(ErrorCode.CompileFailed, `config in ${o.dir}: ${(err as Error).message}`, {
      hint: HINT,
    });
  }
}
