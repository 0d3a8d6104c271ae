// Reads what `-f` names: files, folders (recursively, .yaml/.yml/.json in name order) and `-` for
// standard input. Each source keeps the name the user typed, so errors point at it.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AlderError, ErrorCode, type Source } from '../config/index.ts';
import type { CliIo } from './io.ts';

const CONFIG_FILE = /\.(ya?ml|json)$/i;

export async function readSources(paths: readonly string[], io: CliIo): Promise<Source[]> {
  const sources: Source[] = [];
  for (const path of paths) {
    if (path === '-') {
      sources.push({ name: '-', text: await io.readStdin() });
      continue;
    }
    for (const file of await expand(path)) {
      sources.push({ name: file, text: await readFile(file, 'utf8') });
    }
  }
  return sources;
}

async function expand(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file or folder' : code}`,
      {
        hint: 'pass a file, a folder of .yaml/.json files, or - for standard input',
      },
    );
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) files.push(...(await expand(child)));
    else if (CONFIG_FILE.test(e.name)) files.push(child);
  }
  return files;
}
