// Kubernetes label selectors as `-l` and `?labelSelector=` take them: `app=reviews,version!=v1`,
// `tier in (web,api)`, `env notin (dev)`, `canary`, `!canary`. Parsed once, matched many times.

import { AlderError, ErrorCode } from './errors.ts';

type Requirement =
  | { op: 'in'; key: string; values: Set<string> }
  | { op: 'notin'; key: string; values: Set<string> }
  | { op: 'exists'; key: string }
  | { op: 'notexists'; key: string };

export type LabelSelector = (labels: Readonly<Record<string, string>> | undefined) => boolean;

const TERM =
  /^\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(==|=|!=)\s*([-A-Za-z0-9_.]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$/;

/** Parses a selector; throws ALDER_REQUEST_INVALID naming the term it could not read. */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements: Requirement[] = [];
  for (const term of splitTerms(text)) {
    if (term.trim() === '') continue;
    const m = TERM.exec(term);
    if (m === null || (m[1] === '!' && (m[3] !== undefined || m[5] !== undefined))) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `label selector: cannot read ${JSON.stringify(term.trim())}`,
        {
          hint: 'write terms like app=reviews, version!=v1, tier in (web,api), canary or !canary, separated by commas',
        },
      );
    }
    const key = m[2] as string;
    if (m[1] === '!') requirements.push({ op: 'notexists', key });
    else if (m[3] === '=' || m[3] === '==')
      requirements.push({ op: 'in', key, values: new Set([m[4] ?? '']) });
    else if (m[3] === '!=') requirements.push({ op: 'notin', key, values: new Set([m[4] ?? '']) });
    else if (m[5] !== undefined) {
      const values = new Set((m[6] ?? '').split(',').map((v) => v.trim()));
      requirements.push({ op: m[5] as 'in' | 'notin', key, values });
    } else requirements.push({ op: 'exists', key });
  }
  return (labels) => requirements.every((r) => matches(r, labels ?? {}));
}

function matches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && r.values.has(labels[r.key] as string);
    case 'notin':
      return !has || !r.values.has(labels[r.key] as string);
  }
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}
