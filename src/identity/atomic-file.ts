// Writes a file so that a reader (or a restart after a crash) sees the old content or the new,
// never a torn one: a temporary file in the same folder, fsync, rename, then fsync of the folder.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Replaces `path` with `text`, created with `mode` (e.g. 0o600 for keys) before any byte is written. */
export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, path);
  syncFolder(dirname(path));
}

function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
