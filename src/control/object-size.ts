// The largest object the control plane stores, checked on the raw text before any parsing, so that a
// huge document costs a scan and not a parse: Kubernetes refuses objects over 1.5 MiB the same way.

import { AlderError, ErrorCode, type Source } from '../config/index.ts';

/** etcd's default request limit, which caps a Kubernetes object. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** Throws 413 naming the first document (object) of `sources` over MAX_OBJECT_BYTES. */
export function checkObjectSizes(sources: readonly Source[]): void {
  for (const source of sources) {
    if (Buffer.byteLength(source.text) <= MAX_OBJECT_BYTES) continue;
    for (const doc of documentsOf(source.text)) {
      const bytes = Buffer.byteLength(doc.text);
      if (bytes > MAX_OBJECT_BYTES)
        throw objectTooLarge(`${source.name}:${doc.line} ${describeText(doc.text)}`, bytes);
    }
  }
}

/** Throws 413 when one object's body (a resource path's PUT or POST) is over MAX_OBJECT_BYTES. */
export function checkObjectSize(text: string, what: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_OBJECT_BYTES) throw objectTooLarge(`${what} ${describeText(text)}`, bytes);
}

function objectTooLarge(what: string, bytes: number): AlderError {
  return new AlderError(
    ErrorCode.RequestTooLarge,
    `${what}: the object is ${mib(bytes)}, over the ${mib(MAX_OBJECT_BYTES)} an object may be; nothing was stored`,
    {
      hint: 'split it into several objects (a long host or route list usually belongs in several VirtualServices)',
      details: { bytes, maxObjectBytes: MAX_OBJECT_BYTES },
    },
  );
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The documents of a YAML stream, cut at `---` lines, with their first line; a JSON text is one
 * document unless it is a List or an array, whose items are measured one by one.
 */
function documentsOf(text: string): { text: string; line: number }[] {
  if (/^\s*[[{]/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      const items = Array.isArray(value) ? value : (value as { items?: unknown } | null)?.items;
      if (Array.isArray(items)) return items.map((item) => ({ text: JSON.stringify(item), line: 1 }));
    } catch {
      // not JSON after all: YAML below
    }
  }
  const docs: { text: string; line: number }[] = [];
  let start = 0;
  let line = 1;
  for (const m of text.matchAll(/^---[ \t\r]*(?:$|[ \t#])/gm)) {
    docs.push({ text: text.slice(start, m.index), line });
    line += countLines(text, start, m.index);
    start = m.index;
  }
  docs.push({ text: text.slice(start), line });
  return docs;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** `VirtualService reviews`, from the first few KB of the text, as well as a scan can tell. */
function describeText(text: string): string {
  const head = text.slice(0, 4096);
  const kind = /(?:^|[\s{,])"?kind"?\s*:\s*["']?([A-Za-z]+)/m.exec(head)?.[1];
  const name = /"?metadata"?\s*:[\s{]*(?:[^}]*?[\s{,])?"?name"?\s*:\s*["']?([a-z0-9][a-z0-9.-]*)/.exec(
    head,
  )?.[1];
  return `${kind ?? 'object'}${name === undefined ? '' : ` ${name}`}`;
}
