// Lists and reads what a path names: the file itself, or every file under a folder whose name
// matches, recursively and in name order. `-f` sources and the proxy's watched files are read here.

import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileListing {
  /** The files, in name order (a folder's entries sorted, depth first). */
  files: string[];
  /** The folders walked: the folder itself and every folder under it, or a file's own folder. */
  dirs: string[];
}

export interface FileTree {
  files: { name: string; text: string }[];
  dirs: string[];
}

/** Lists `path`; throws the file system's error (with its `code`) when it cannot. */
export async function listTree(path: string, pattern: RegExp): Promise<FileListing> {
  if (!(await stat(path)).isDirectory()) return { files: [path], dirs: [dirname(path)] };
  const listing: FileListing = { files: [], dirs: [path] };
  await walk(path, pattern, listing);
  return listing;
}

/** Lists `path` and reads every file in it as UTF-8. */
export async function readTree(path: string, pattern: RegExp): Promise<FileTree> {
  return readListing(await listTree(path, pattern));
}

/** Reads every file of a listing as UTF-8. */
export async function readListing({ files, dirs }: FileListing): Promise<FileTree> {
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  return { files: files.map((name, i) => ({ name, text: texts[i] as string })), dirs };
}

async function walk(dir: string, pattern: RegExp, into: FileListing): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = join(dir, e.name);
    if (e.isDirectory()) {
      into.dirs.push(child);
      await walk(child, pattern, into);
    } else if (pattern.test(e.name)) into.files.push(child);
  }
}
