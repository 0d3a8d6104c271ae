// Reads what `-f` names: files, folders (recursively, .yaml/.yml/.json in name order) and `-` for
// standard input. Each source keeps the name the user typed, so errors point at it.

import { readFile } from 'node:fs/promises';
import { AlderError, ErrorCode } from '../config/core.ts';
import type { Source } from '../config/index.ts';
import { listTree } from './file-tree.ts';
import type { CliIo } from './io.ts';

/** The files a folder contributes: YAML and JSON. */
export const CONFIG_FILE = /\.(ya?ml|json)$/i;

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
  try {
    return (await listTree(path, CONFIG_FILE)).files;
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
}
