// Turns the text of one file into documents: multi-document YAML or JSON (an object, a list, or a
// Kubernetes `List`), each with a way back from a field path to its line, for error messages.
// Called by load.ts; knows nothing about kinds.
//
// Two YAML libraries, each for what it does best: js-yaml loads values (10,000 resources, 3.4 MB,
// in ~0.4 s cold), and only when an error needs a line does `yaml` parse that one document again
// into an AST with source ranges (~4x slower, so never on the common path). Documents are split at
// their `---` markers first, so a syntax error in one does not hide the problems of the others.

import { createRequire } from 'node:module';
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';
import type { LineCounter, Node } from 'yaml';

/**
 * `yaml` loaded on first use: most processes (a proxy, a valid apply) never need a line number,
 * and loading it costs ~7 MiB of memory and ~20 ms.
 */
let yamlLib: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLib;
}

export interface ParsedDocument {
  /** File name as the user gave it (or `-` for standard input). */
  source: string;
  /** 1-based position of the document in its file (items of a List count one each). */
  index: number;
  /** 1-based line where the document (or List item) begins. */
  line: number;
  value: unknown;
  /** The 1-based line of the field at `segments` (or of its nearest existing parent). */
  locate(segments: readonly (string | number)[]): number;
}

export interface ParseFailure {
  source: string;
  line: number;
  message: string;
}

export interface ParsedSource {
  documents: ParsedDocument[];
  failures: ParseFailure[];
}

/** More aliases than this in one document are refused: a few anchors are normal, thousands are an attack. */
const MAX_ALIASES = 100;
// Lines that start a document (`---`), end one (`...`), or hold a directive (`%YAML`).
const MARKER = /^(?:---(?=[ \t\r\n]|$)|\.\.\.(?=[ \t\r\n]|$)|%)/gm;
// The first line of a document that is not blank, a comment, a bare `---` or a directive.
const CONTENT = /^(?![ \t]*(?:#|\r?$)|---[ \t\r]*$|%)/m;
const ALIAS = /(?:^|[\s,[{:-])\*[^\s,\]}]+/g;

export function parseSource(source: string, text: string): ParsedSource {
  if (/^\s*[{[]/.test(text)) {
    const json = parseJson(source, text);
    if (json !== undefined) return json;
  }
  return parseYaml(source, text);
}

function parseJson(source: string, text: string): ParsedSource | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not valid JSON: YAML (a superset) parses it again and reports the error with its line.
    return undefined;
  }
  const locateRoot = locator(text);
  return { documents: expand(source, 1, value, [], 1, locateRoot), failures: [] };
}

interface Chunk {
  text: string;
  /** 1-based line of the chunk's first line in the file. */
  line: number;
}

/** Splits a YAML stream at its document markers; directive lines stay with the document they precede. */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let counted = 0;
  let pendingDirectives = false;
  const lineAt = (offset: number) => {
    for (let i = text.indexOf('\n', counted); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
    counted = offset;
    return line;
  };
  const cut = (end: number) => {
    const endLine = lineAt(end);
    if (end > start) chunks.push({ text: text.slice(start, end), line: startLine });
    start = end;
    startLine = endLine;
  };
  for (const m of text.matchAll(MARKER)) {
    const at = m.index;
    if (m[0] === '%') {
      if (!pendingDirectives) cut(at);
      pendingDirectives = true;
    } else if (m[0] === '---') {
      if (!pendingDirectives) cut(at);
      pendingDirectives = false;
    } else {
      const eol = text.indexOf('\n', at);
      cut(eol === -1 ? text.length : eol + 1);
    }
  }
  cut(text.length);
  return chunks;
}

function parseYaml(source: string, text: string): ParsedSource {
  const documents: ParsedDocument[] = [];
  const failures: ParseFailure[] = [];
  let index = 1;
  for (const chunk of splitDocuments(text)) {
    let value: unknown;
    try {
      const aliases = chunk.text.includes('*') ? (chunk.text.match(ALIAS)?.length ?? 0) : 0;
      if (aliases > MAX_ALIASES) throw new Error(`more than ${MAX_ALIASES} aliases in one document`);
      value = load(chunk.text, { schema: CORE_SCHEMA, filename: source });
    } catch (err) {
      const line = err instanceof YAMLException ? chunk.line + (err.mark?.line ?? 0) : chunk.line;
      const message = err instanceof YAMLException ? err.reason : (err as Error).message;
      failures.push({ source, line, message });
      index++;
      continue;
    }
    if (value === null || value === undefined) continue;
    const inChunk = locator(chunk.text);
    const locate = (segments: readonly (string | number)[]) => chunk.line - 1 + inChunk(segments);
    documents.push(...expand(source, index, value, [], firstContentLine(chunk), locate));
    index += isList(value) ? Math.max(1, value.items.length) : 1;
  }
  return { documents, failures };
}

/** The line where a document's content begins: past blank lines, comments and a bare `---`. */
function firstContentLine(chunk: Chunk): number {
  const m = CONTENT.exec(chunk.text);
  if (m === null) return chunk.line;
  let line = chunk.line;
  for (let i = chunk.text.indexOf('\n'); i !== -1 && i < m.index; i = chunk.text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Documents up to this size get the exact line of each finding. */
const MAX_LOCATED_BYTES = 64 * 1024;

/**
 * For one YAML or JSON document: the 1-based line of the node at `segments`, or of its nearest
 * parent. Parses the text into an AST on first use only, then reuses it.
 */
function locator(text: string): (segments: readonly (string | number)[]) => number {
  // The line-keeping AST costs ~1 KB and ~30 µs per node: past this size a finding points at the
  // document's first line instead (measured: a 1.5 MiB flow list took 22 s and 750 MB).
  if (text.length > MAX_LOCATED_BYTES) return () => 1;
  let parsed: { root: Node | null; lineCounter: LineCounter } | undefined;
  return (segments) => {
    if (parsed === undefined) {
      const { LineCounter, parseDocument } = yaml();
      const lineCounter = new LineCounter();
      parsed = {
        root: parseDocument(text, { lineCounter, uniqueKeys: false }).contents as Node | null,
        lineCounter,
      };
    }
    const node = deepestNode(parsed.root, segments);
    return parsed.lineCounter.linePos(node?.range?.[0] ?? parsed.root?.range?.[0] ?? 0).line;
  };
}

function deepestNode(root: Node | null, segments: readonly (string | number)[]): Node | undefined {
  const { isMap, isSeq } = yaml();
  let node: Node | null = root;
  for (const segment of segments) {
    if (node === null) break;
    let next: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === segment);
      // A field is reported at its key, which is where the user looks.
      if (pair !== undefined && (pair.value === null || segment === segments[segments.length - 1]))
        return pair.key as Node;
      next = (pair?.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = (node.items[segment] as Node | null) ?? null;
    }
    if (next === null) break;
    node = next;
  }
  return node ?? undefined;
}

/** A Kubernetes `List` (kind: List / *List with items) is flattened into its items. */
function isList(value: unknown): value is { items: unknown[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}

function expand(
  source: string,
  index: number,
  value: unknown,
  prefix: readonly (string | number)[],
  line: number,
  locateRoot: (segments: readonly (string | number)[]) => number,
): ParsedDocument[] {
  const items = Array.isArray(value) ? value : isList(value) ? value.items : undefined;
  if (items === undefined) {
    return [
      { source, index, line, value, locate: (s) => locateRoot(prefix.length === 0 ? s : [...prefix, ...s]) },
    ];
  }
  const itemsPrefix = Array.isArray(value) ? prefix : [...prefix, 'items'];
  const out: ParsedDocument[] = [];
  items.forEach((item, i) => {
    if (item === null || item === undefined) return;
    const at = [...itemsPrefix, i];
    let line: number | undefined;
    out.push({
      source,
      index: index + i,
      // Finding an item's line parses the file again: only when a message or a duplicate needs it.
      get line() {
        line ??= locateRoot(at);
        return line;
      },
      value: item,
      locate: (s) => locateRoot([...at, ...s]),
    });
  });
  return out;
}
