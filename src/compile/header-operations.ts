// A VirtualService's `headers` (route level or per destination) as the wire's HeaderOperations, as
// Istio's TranslateHeadersOperations does: names lower-cased; setting or adding `:authority` or
// `host` is an authority rewrite, returned apart (set wins over add); removals of pseudo-headers and
// `host` are dropped, since Envoy cannot make them.

import type { Headers } from '../config/index.ts';
import type { HeaderEdits, HeaderOperations } from '../wire/index.ts';

export interface TranslatedHeaders {
  operations: HeaderOperations | undefined;
  /** The authority to rewrite to, from a request set/add of `:authority` or `host`. */
  authority: string | undefined;
}

export function translateHeaders(headers: Headers | undefined): TranslatedHeaders {
  if (headers === undefined) return { operations: undefined, authority: undefined };
  const request = editsOf(headers.request);
  const response = editsOf(headers.response);
  const operations: HeaderOperations = {
    ...(request.edits === undefined ? {} : { request: request.edits }),
    ...(response.edits === undefined ? {} : { response: response.edits }),
  };
  return {
    operations:
      operations.request === undefined && operations.response === undefined ? undefined : operations,
    authority: request.setAuthority ?? request.addAuthority,
  };
}

function isInternal(name: string): boolean {
  return name.startsWith(':') || name === 'host';
}

function editsOf(ops: NonNullable<Headers['request']> | undefined): {
  edits: HeaderEdits | undefined;
  setAuthority: string | undefined;
  addAuthority: string | undefined;
} {
  let setAuthority: string | undefined;
  let addAuthority: string | undefined;
  const pairs = (map: Record<string, string> | undefined, onAuthority: (v: string) => void) =>
    Object.entries(map ?? {}).flatMap(([name, value]): [string, string][] => {
      const lower = name.toLowerCase();
      if (lower === ':authority' || lower === 'host') onAuthority(value);
      return isInternal(lower) ? [] : [[lower, value]];
    });
  const set = pairs(ops?.set, (v) => {
    setAuthority = v;
  });
  const add = pairs(ops?.add, (v) => {
    addAuthority = v;
  });
  const remove = (ops?.remove ?? []).map((n) => n.toLowerCase()).filter((n) => !isInternal(n));
  const edits: HeaderEdits = {
    ...(set.length === 0 ? {} : { set }),
    ...(add.length === 0 ? {} : { add }),
    ...(remove.length === 0 ? {} : { remove }),
  };
  return { edits: Object.keys(edits).length === 0 ? undefined : edits, setAuthority, addAuthority };
}
