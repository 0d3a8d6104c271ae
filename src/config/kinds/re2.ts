// Rewrites an RE2 pattern (Istio's and Envoy's regex syntax) as a JavaScript `u`-mode pattern with the
// same meaning, where JavaScript spells a construct differently: `(?P<name>`, inline flags `(?i)`,
// `\Q…\E`, `\A`, `\z`, `\pL`, `\x{…}`, `\a`, escaped punctuation and POSIX classes `[[:alpha:]]`.
// checkRe2 refuses what RE2 cannot do (look-around, back references) and what does not compile.

import type { Checker } from '../schema.ts';

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** A literal character as JavaScript `u` mode accepts it, in or out of a character class. */
function literal(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

/** RE2 inline flags (`i`, `m`, `s`, `U`, `-`) as a JavaScript modifier group opener, `(?i:` or `(?:`. */
function modifierGroup(flags: string): string {
  const [on = '', off = ''] = flags.replaceAll('U', '').split('-');
  const add = [...new Set(on)].join('');
  const remove = [...new Set(off)].filter((f) => !add.includes(f)).join('');
  if (add === '' && remove === '') return '(?:';
  return `(?${add}${remove === '' ? '' : `-${remove}`}:`;
}

export function re2ToJsSource(pattern: string): string {
  let out = '';
  let inClass = false;
  // For each open group, the modifier groups opened by `(?i)` inside it, closed with it and reopened
  // after each `|` (RE2 flags last to the end of the group, across alternatives).
  const pending: string[][] = [[]];
  const top = () => pending[pending.length - 1] as string[];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const [text, next] = translateEscape(pattern, i, inClass);
      out += text;
      i = next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      if (ch === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        const name = end === -1 ? undefined : pattern.slice(i + 2, end);
        if (name !== undefined && POSIX[name] !== undefined) {
          out += POSIX[name];
          i = end + 2;
          continue;
        }
      }
      out += ch === '[' ? '\\[' : ch;
      i++;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += '[';
      i++;
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      // A `]` first in a class is a literal in RE2.
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(') {
      const flags = /^\(\?([imsU-]*)([:)])/.exec(pattern.slice(i));
      if (flags !== null && !(flags[1] === '' && flags[2] === ')')) {
        const opener = modifierGroup(flags[1] as string);
        out += opener;
        if (flags[2] === ')') top().push(opener);
        else pending.push([]);
        i += flags[0].length;
        continue;
      }
      if (pattern.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
      } else {
        out += '(';
        i++;
      }
      pending.push([]);
      continue;
    }
    if (ch === ')') {
      out += `${')'.repeat(pending.length > 1 ? (pending.pop() as string[]).length : 0)})`;
      i++;
      continue;
    }
    if (ch === '|') {
      out += `${')'.repeat(top().length)}|${top().join('')}`;
      i++;
      continue;
    }
    out += ch;
    i++;
  }
  return out + ')'.repeat((pending[0] as string[]).length);
}

/** One escape sequence starting at `pattern[i]` (a backslash): its JavaScript form and where it ends. */
function translateEscape(pattern: string, i: number, inClass: boolean): [string, number] {
  const n = pattern[i + 1];
  if (n === undefined) return ['\\', i + 1];
  switch (n) {
    case 'Q': {
      const end = pattern.indexOf('\\E', i + 2);
      const text = pattern.slice(i + 2, end === -1 ? undefined : end);
      return [[...text].map((c) => literal(c, inClass)).join(''), end === -1 ? pattern.length : end + 2];
    }
    case 'E':
      return ['', i + 2];
    case 'A':
      return [inClass ? 'A' : '^', i + 2];
    case 'z':
      return [inClass ? 'z' : '$', i + 2];
    case 'a':
      return ['\\x07', i + 2];
    case 'p':
    case 'P':
      if (pattern[i + 2] !== '{' && pattern[i + 2] !== undefined) return [`\\${n}{${pattern[i + 2]}}`, i + 3];
      return [`\\${n}`, i + 2];
    case 'x':
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        if (end !== -1) return [`\\u{${pattern.slice(i + 3, end)}}`, end + 1];
      }
      return ['\\x', i + 2];
  }
  if (/[!-/:-@[-`{-~]/.test(n)) return [literal(n, inClass), i + 2];
  return [`\\${n}`, i + 2];
}

/** Reports a pattern that is not valid RE2; true when it is. */
export function checkRe2(pattern: string, c: Checker): boolean {
  if (/\(\?<?[=!]/.test(pattern)) {
    c.error(
      `must be an RE2 regular expression: look-around is not supported, got ${JSON.stringify(pattern)}`,
    );
    return false;
  }
  if (/(^|[^\\])\\[1-9]/.test(pattern)) {
    c.error(
      `must be an RE2 regular expression: back references are not supported, got ${JSON.stringify(pattern)}`,
    );
    return false;
  }
  try {
    new RegExp(re2ToJsSource(pattern), 'u');
    return true;
  } catch (err) {
    c.error(
      `must be a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
    return false;
  }
}
