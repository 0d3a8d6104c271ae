// Turns the text of one file into documents: multi-document YAML or JSON (an object, a list, or a
// Kubernetes `List`), each with a way back from a field path to its line, for error messages.
// Called by load.ts; knows nothing about kinds.

import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';

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

/** Looks like JSON when the first non-blank character opens an object or array. */
function looksLikeJson(text: string): boolean {
  const m = /^\s*([{[])/.exec(text);
  return m !== null;
}

export function parseSource(source: string, text: string): ParsedSource {
  if (looksLikeJson(text)) {
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
  // JSON carries no positions; when an error needs a line, parse the text as YAML once, lazily.
  let lines: ((segments: readonly (string | number)[]) => number) | undefined;
  const locateRoot = (segments: readonly (string | number)[]) => {
    if (lines === undefined) {
      const yaml = parseYaml(source, text);
      const first = yaml.documents[0];
      lines = first === undefined ? () => 1 : (s) => first.locate(s);
    }
    return lines(segments);
  };
  return { documents: expand(source, 1, value, [], 1, locateRoot), failures: [] };
}

function parseYaml(source: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: ParsedDocument[] = [];
  const failures: ParseFailure[] = [];
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    // An empty stream parses to an EmptyStream: nothing to load.
    return { documents, failures };
  }
  let index = 1;
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const offset = err.pos[0];
        failures.push({ source, line: lineCounter.linePos(offset).line, message: firstLine(err.message) });
      }
      index++;
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const root = doc.contents as Node | null;
    const locate = (segments: readonly (string | number)[]) => {
      const node = deepestNode(root, segments);
      const offset = node?.range?.[0] ?? root?.range?.[0] ?? 0;
      return lineCounter.linePos(offset).line;
    };
    const line = locate([]);
    for (const d of expand(source, index, value, [], line, locate)) documents.push(d);
    index += isList(value) ? Math.max(1, (value.items as unknown[]).length) : 1;
  }
  return { documents, failures };
}

/** A Kubernetes `List` (kind: List / *List with items) or a bare JSON array is flattened into documents. */
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
    out.push({
      source,
      index: index + i,
      line: locateRoot(at),
      value: item,
      locate: (s) => locateRoot([...at, ...s]),
    });
  });
  return out;
}

function deepestNode(root: Node | null, segments: readonly (string | number)[]): Node | undefined {
  let node: Node | null = root;
  for (const segment of segments) {
    if (node === null) break;
    let next: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === segment);
      // An unknown or misplaced field is reported at its key, which is where the user looks.
      next = (pair?.value as Node | null) ?? (pair?.key as Node | null) ?? null;
      if (pair !== undefined && pair.value === null) return pair.key as Node;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = (node.items[segment] as Node | null) ?? null;
    }
    if (next === null) break;
    node = next;
  }
  return node ?? undefined;
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}
