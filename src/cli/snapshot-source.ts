// Where `alder proxy` gets its snapshots: wire-encoded text, as the control plane's stream will
// carry it, made from files and made again on every change the watcher sees. snapshot-file.ts reads
// one (--snapshot FILE); local-snapshots.ts compiles one from a config folder (--config DIR).

import { AlderError, ErrorCode } from '../config/core.ts';
import { type FileTree, readTree } from './file-tree.ts';
import { type FileWatch, watchFiles } from './watch-files.ts';

export interface SnapshotSource {
  /** The first snapshot, wire-encoded. */
  first: string;
  /** Hands each later snapshot to `apply`, and the reason for each change that yields none to `refuse`. */
  follow(handlers: {
    apply(encoded: string): Promise<unknown>;
    refuse(reason: string): Promise<unknown>;
  }): FileWatch;
}

export interface FileSourceOptions {
  /** The file or folder read. */
  path: string;
  /** The files of a folder that count. */
  pattern: RegExp;
  /** Turns the files into a wire-encoded snapshot; throws with the reason when it cannot. */
  encode(tree: FileTree): string;
  /** What to do about an unreadable path, for the error that stops the start. */
  hint: string;
}

/** Reads and encodes the files once (throwing ALDER_REQUEST_INVALID if unreadable), then follows them. */
export async function openFileSource(o: FileSourceOptions): Promise<SnapshotSource> {
  let since: FileTree;
  try {
    since = await readTree(o.path, o.pattern);
  } catch (err) {
    throw new AlderError(ErrorCode.RequestInvalid, unreadable(o.path, err as Error), { hint: o.hint });
  }
  return {
    first: o.encode(since),
    follow: ({ apply, refuse }) =>
      watchFiles({
        path: o.path,
        pattern: o.pattern,
        since,
        onChange: async (tree) => {
          let encoded: string;
          try {
            encoded = o.encode(tree);
          } catch (err) {
            await refuse((err as Error).message);
            return;
          }
          await apply(encoded);
        },
        onError: async (err) => {
          await refuse(unreadable(o.path, err));
        },
      }),
  };
}

function unreadable(path: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `cannot read ${path}: ${code === 'ENOENT' ? 'no such file or folder' : (code ?? err.message)}`;
}
