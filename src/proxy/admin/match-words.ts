// A route's match block in words, two ways: in full for explanations and /routes (`uri prefix
// "/api", headers end-user exact "jason"`), and compact for the MATCH column of `alder proxy-config
// routes` (`/api* end-user=jason`, istioctl's `/*` style). Read from the wire form, never compiled.

import type { HeaderMatch, QueryParamMatch, RouteMatch, StringMatch } from '../../wire/index.ts';

/** `exact "jason"`, `prefix "/api"`, `regex "v[0-9]+"`: the words explain's reasons use too. */
export function stringMatchWords(m: StringMatch): string {
  if ('exact' in m) return `exact ${JSON.stringify(m.exact)}`;
  if ('prefix' in m) return `prefix ${JSON.stringify(m.prefix)}`;
  return `regex ${JSON.stringify(m.regex)}`;
}

/** Every condition of one match block, in the order the proxy tests them; `every request` for none. */
export function matchWords(m: RouteMatch): string {
  const words: string[] = [];
  if (m.port !== undefined) words.push(`port ${m.port}`);
  if (m.uri !== undefined)
    words.push(`uri ${stringMatchWords(m.uri)}${m.ignoreUriCase === true ? ' (ignoring case)' : ''}`);
  if (m.method !== undefined) words.push(`method ${stringMatchWords(m.method)}`);
  if (m.authority !== undefined) words.push(`authority ${stringMatchWords(m.authority)}`);
  if (m.scheme !== undefined) words.push(`scheme ${stringMatchWords(m.scheme)}`);
  for (const h of m.headers ?? []) words.push(headerWords(h));
  for (const q of m.queryParams ?? []) words.push(queryWords(q));
  if (m.sourceLabels !== undefined) words.push(`sourceLabels ${labelsText(m.sourceLabels)}`);
  if (m.sourceNamespace !== undefined) words.push(`sourceNamespace ${m.sourceNamespace}`);
  return words.length === 0 ? 'every request' : words.join(', ');
}

/** The MATCH column: the uri as istioctl prints it (`/api*`, `/exact`, `regex …`, `/*`), then the rest. */
export function compactMatch(m: RouteMatch | undefined): string {
  if (m === undefined) return '/*';
  const parts: string[] = [m.uri === undefined ? '/*' : compactUri(m.uri)];
  if (m.ignoreUriCase === true && m.uri !== undefined) parts.push('(any case)');
  if (m.port !== undefined) parts.push(`port=${m.port}`);
  if (m.method !== undefined) parts.push(`method${compactValue(m.method)}`);
  if (m.authority !== undefined) parts.push(`authority${compactValue(m.authority)}`);
  if (m.scheme !== undefined) parts.push(`scheme${compactValue(m.scheme)}`);
  for (const h of m.headers ?? []) {
    const present = h.value === undefined || ('regex' in h.value && h.value.regex === '*');
    const text = present ? h.name : `${h.name}${compactValue(h.value as StringMatch)}`;
    parts.push(h.isInverted ? `!${text}` : text);
  }
  for (const q of m.queryParams ?? []) {
    parts.push(`?${q.value === undefined ? q.name : `${q.name}${compactValue(q.value)}`}`);
  }
  if (m.sourceLabels !== undefined) parts.push(`from ${labelsText(m.sourceLabels)}`);
  if (m.sourceNamespace !== undefined) parts.push(`from ns ${m.sourceNamespace}`);
  return parts.join(' ');
}

function compactUri(m: StringMatch): string {
  if ('exact' in m) return m.exact;
  if ('prefix' in m) return `${m.prefix}*`;
  return `regex ${m.regex}`;
}

function compactValue(m: StringMatch): string {
  if ('exact' in m) return `=${m.exact}`;
  if ('prefix' in m) return `=${m.prefix}*`;
  return `~${m.regex}`;
}

function headerWords(h: HeaderMatch): string {
  const field = h.isInverted ? 'withoutHeaders' : 'headers';
  const present = h.value === undefined || ('regex' in h.value && h.value.regex === '*');
  return present
    ? `${field} ${h.name} present`
    : `${field} ${h.name} ${stringMatchWords(h.value as StringMatch)}`;
}

function queryWords(q: QueryParamMatch): string {
  return q.value === undefined
    ? `queryParams ${q.name} present`
    : `queryParams ${q.name} ${stringMatchWords(q.value)}`;
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
