// `alder proxy --snapshot FILE`: a wire-encoded snapshot read from a file (as /config_dump prints it
// or an encoder writes it) and read again when the file changes. Nothing is compiled: the proxy
// decodes and checks the text itself, so this path loads no config machinery. The code that reads
// and follows files loads on the first call: `alder proxy --control-plane` imports this module too.

import { AlderError, ErrorCode } from '../config/core.ts';
import type { FileTree } from './file-tree.ts';
import type { SnapshotSource } from './snapshot-source.ts';

const NEVER = /(?!)/;

/** Follows the snapshot in `path`; throws ALDER_REQUEST_INVALID when it cannot be read. */
export async function openSnapshotFile(path: string): Promise<SnapshotSource> {
  const { openFileSource } = await import('./snapshot-source.ts');
  return openFileSource({
    path,
    pattern: NEVER,
    encode: (tree) => withoutDumpFields(onlyFile(path, tree)),
    hint: HINT,
  });
}

const HINT = "pass a snapshot file, such as a proxy's /config_dump saved with `curl -o FILE`";

function onlyFile(path: string, tree: FileTree): string {
  const file = tree.files[0];
  if (tree.files.length !== 1 || file?.name !== path) {
    throw new AlderError(ErrorCode.RequestInvalid, `--snapshot ${path} is a folder, not a snapshot file`, {
      hint: `${HINT}; a folder of Istio YAML goes to --config`,
    });
  }
  return file.text;
}

/**
 * A /config_dump of a proxy serving an older snapshot carries `lastRefused` beside the snapshot's
 * fields; it is the proxy's state, not part of the snapshot, so it is dropped before decoding.
 */
function withoutDumpFields(text: string): string {
  if (!text.includes('"lastRefused"')) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text; // the proxy's decoder reports what is wrong with it
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return text;
  const { lastRefused: _, ...snapshot } = value as Record<string, unknown>;
  return JSON.stringify(snapshot);
}
