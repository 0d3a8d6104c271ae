// Turns an RE2 pattern (Istio's and Envoy's regex syntax) into a JavaScript RegExp with the same
// meaning. Validation uses it to refuse what RE2 (or JavaScript) cannot run; the proxy uses it once
// per snapshot: route matching anchors it, uriRegexRewrite runs it unanchored and global. What
// JavaScript cannot express (look-around, back references, \C) is refused with a reason.

import { AlderError, ErrorCode } from './errors.ts';

/** RE2's flags as the translator tracks them; only `i` is left to JavaScript. */
interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Frame {
  /** Flags when the group opened, restored at its `)`. */
  start: Flags;
  /** JavaScript `(?i:` / `(?-i:` groups opened by `(?i)` inside this group, closed at `|` and `)`. */
  openModifiers: number;
}

/** What `translateRe2` produces: a `u`-mode source and its flags (`u`, plus `i` from a leading `(?i)`). */
export interface Re2Translation {
  source: string;
  flags: string;
  /** Capturing groups, to check `\N` references of a rewrite. */
  groups: number;
}

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const PUNCT = /[!-/:-@[-`{-~]/;
const RE2_MAX_REPEAT = 1000;
/** RE2's `\s`: tab, newline, form feed, carriage return, space (JavaScript's adds \v and Unicode spaces). */
const SPACE = '\\t\\n\\f\\r ';
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
const GENERAL_CATEGORY = /^(?:C[cfos]?|L[lmotu]?|M[cen]?|N[dlo]?|P[cdefios]?|S[ckmo]?|Z[lps]?)$/;

function refuse(pattern: string, reason: string): never {
  throw new AlderError(
    ErrorCode.SnapshotInvalid,
    `RE2 regex ${JSON.stringify(pattern)} cannot run as a JavaScript RegExp: ${reason}`,
    { details: { pattern }, hint: 'rewrite the regex without that construct' },
  );
}

/** A literal character, escaped where JavaScript `u` mode needs it. */
function literal(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

/** Translates an RE2 pattern; throws an AlderError (ALDER_SNAPSHOT_INVALID) naming what it refuses. */
export function translateRe2(pattern: string): Re2Translation {
  return new Translator(pattern).run();
}

/**
 * An RE2 pattern as a RegExp. `anchored`: the whole input must match (Istio's StringMatch regex);
 * otherwise global, for replacing every match (Envoy's regex_rewrite).
 */
export function compileRe2(pattern: string, mode: 'anchored' | 'global'): RegExp {
  const t = translateRe2(pattern);
  if (mode === 'anchored') return new RegExp(`^(?:${t.source})$`, t.flags);
  return new RegExp(t.source, `${t.flags}g`);
}

class Translator {
  readonly #p: string;
  #i = 0;
  #out = '';
  #flags: Flags = { i: false, m: false, s: false, U: false };
  #jsFlags = 'u';
  #groups = 0;
  readonly #stack: Frame[] = [];

  constructor(pattern: string) {
    this.#p = pattern;
  }

  run(): Re2Translation {
    this.#leadingFlags();
    this.#stack.push({ start: { ...this.#flags }, openModifiers: 0 });
    while (this.#i < this.#p.length) this.#step();
    if (this.#stack.length > 1) refuse(this.#p, 'missing closing )');
    this.#out += ')'.repeat(this.#top().openModifiers);
    try {
      new RegExp(this.#out, this.#jsFlags);
    } catch (err) {
      refuse(this.#p, (err as Error).message.replace(/^Invalid regular expression: /, ''));
    }
    return { source: this.#out, flags: this.#jsFlags, groups: this.#groups };
  }

  /** `(?i)` first in the pattern becomes a RegExp flag instead of a modifier group. */
  #leadingFlags(): void {
    const m = /^\(\?([imsU]+)\)/.exec(this.#p);
    if (m === null) return;
    for (const f of m[1] as string) this.#flags[f as keyof Flags] = true;
    if (this.#flags.i) this.#jsFlags = 'iu';
    this.#i = m[0].length;
  }

  #top(): Frame {
    return this.#stack[this.#stack.length - 1] as Frame;
  }

  #step(): void {
    const ch = this.#p[this.#i] as string;
    switch (ch) {
      case '\\':
        this.#out += this.#escape(false);
        return;
      case '[':
        this.#class();
        return;
      case '(':
        this.#open();
        return;
      case ')':
        this.#close();
        return;
      case '|': {
        const top = this.#top();
        this.#out += `${')'.repeat(top.openModifiers)}|`;
        top.openModifiers = 0;
        if (this.#flags.i !== top.start.i) {
          this.#out += this.#flags.i ? '(?i:' : '(?-i:';
          top.openModifiers = 1;
        }
        this.#i++;
        return;
      }
      case '*':
      case '+':
      case '?':
        this.#i++;
        this.#quantifier(ch);
        return;
      case '{': {
        const rep = /^\{(\d+)(,(\d*))?\}/.exec(this.#p.slice(this.#i));
        if (rep === null) {
          this.#out += '\\{';
          this.#i++;
          return;
        }
        const counts = [rep[1], rep[3]].filter((n) => n !== undefined && n !== '').map(Number);
        if (counts.some((n) => n > RE2_MAX_REPEAT)) refuse(this.#p, `repeat count above RE2's limit of 1000`);
        this.#i += rep[0].length;
        this.#quantifier(rep[0]);
        return;
      }
      case '}':
      case ']':
        this.#out += `\\${ch}`;
        this.#i++;
        return;
      case '.':
        this.#out += this.#flags.s ? '[\\s\\S]' : '[^\\n]';
        this.#i++;
        return;
      case '^':
        this.#out += this.#flags.m ? '(?<![^\\n])' : '^';
        this.#i++;
        return;
      case '$':
        this.#out += this.#flags.m ? '(?![^\\n])' : '$';
        this.#i++;
        return;
      default:
        this.#out += ch;
        this.#i++;
    }
  }

  /** Writes a quantifier; RE2's `(?U)` swaps greedy and lazy, which JavaScript has no flag for. */
  #quantifier(q: string): void {
    let lazy = this.#p[this.#i] === '?';
    if (lazy) this.#i++;
    if (this.#flags.U) lazy = !lazy;
    this.#out += lazy ? `${q}?` : q;
  }

  #open(): void {
    const rest = this.#p.slice(this.#i);
    if (/^\(\?<?[=!]/.test(rest)) refuse(this.#p, 'look-around ((?=, (?!, (?<=, (?<!) is not RE2 syntax');
    if (rest.startsWith('(?P=')) refuse(this.#p, 'back references are not RE2 syntax');
    const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named !== null) {
      this.#push();
      this.#groups++;
      this.#out += `(?<${named[1]}>`;
      this.#i += named[0].length;
      return;
    }
    if (!rest.startsWith('(?')) {
      this.#push();
      this.#groups++;
      this.#out += '(';
      this.#i++;
      return;
    }
    const flags = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (flags === null) refuse(this.#p, `unsupported group syntax at ${JSON.stringify(rest.slice(0, 4))}`);
    this.#i += flags[0].length;
    const before = this.#flags.i;
    if (flags[3] === ':') this.#push();
    const next = { ...this.#flags };
    for (const f of flags[1] ?? '') next[f as keyof Flags] = true;
    for (const f of flags[2] ?? '') next[f as keyof Flags] = false;
    this.#flags = next;
    const opener = next.i === before ? '(?:' : next.i ? '(?i:' : '(?-i:';
    if (flags[3] === ':') {
      this.#out += opener;
      return;
    }
    // `(?i)` mid-group: its flags last to the end of the enclosing group, across `|`.
    if (opener !== '(?:') {
      this.#out += opener;
      this.#top().openModifiers++;
    }
  }

  #push(): void {
    this.#stack.push({ start: { ...this.#flags }, openModifiers: 0 });
  }

  #close(): void {
    if (this.#stack.length === 1) refuse(this.#p, 'unmatched )');
    const frame = this.#stack.pop() as Frame;
    this.#out += `${')'.repeat(frame.openModifiers)})`;
    this.#flags = frame.start;
    this.#i++;
  }

  #class(): void {
    this.#out += '[';
    this.#i++;
    if (this.#p[this.#i] === '^') {
      this.#out += '^';
      this.#i++;
    }
    // A `]` first in a class is a literal in RE2.
    if (this.#p[this.#i] === ']') {
      this.#out += '\\]';
      this.#i++;
    }
    while (this.#i < this.#p.length) {
      const ch = this.#p[this.#i] as string;
      if (ch === ']') {
        this.#out += ']';
        this.#i++;
        return;
      }
      if (ch === '\\') {
        this.#out += this.#escape(true);
        continue;
      }
      if (ch === '[' && this.#p[this.#i + 1] === ':') {
        this.#posix();
        continue;
      }
      this.#out += ch === '[' ? '\\[' : ch;
      this.#i++;
    }
    refuse(this.#p, 'missing closing ]');
  }

  #posix(): void {
    const end = this.#p.indexOf(':]', this.#i + 2);
    const name = end === -1 ? '' : this.#p.slice(this.#i + 2, end);
    if (name.startsWith('^')) refuse(this.#p, `negated POSIX class [:${name}:] inside [...]`);
    const ranges = POSIX[name];
    if (ranges === undefined) refuse(this.#p, `unknown POSIX class [:${name}:]`);
    this.#out += ranges;
    this.#i = end + 2;
  }

  /** One escape at `#i` (a backslash), in or out of a class; advances past it. */
  #escape(inClass: boolean): string {
    const n = this.#p[this.#i + 1];
    const start = this.#i;
    this.#i += 2;
    if (n === undefined) refuse(this.#p, 'trailing backslash');
    switch (n) {
      case 'Q': {
        const end = this.#p.indexOf('\\E', this.#i);
        const text = this.#p.slice(this.#i, end === -1 ? undefined : end);
        this.#i = end === -1 ? this.#p.length : end + 2;
        return [...text].map((c) => literal(c, inClass)).join('');
      }
      case 'E':
        return '';
      case 'A':
        return inClass ? refuse(this.#p, '\\A inside [...]') : '(?<![\\s\\S])';
      case 'z':
        return inClass ? refuse(this.#p, '\\z inside [...]') : '(?![\\s\\S])';
      case 'C':
        return refuse(this.#p, '\\C (any byte) has no JavaScript equivalent');
      case 'a':
        return '\\x07';
      case 's':
        return inClass ? SPACE : `[${SPACE}]`;
      case 'S':
        return inClass ? '\\S' : `[^${SPACE}]`;
      case 'p':
      case 'P':
        return this.#unicodeClass(n === 'P', inClass);
      case 'x':
        return this.#hex();
      case '0':
        return this.#octal();
    }
    if (/[1-9]/.test(n)) refuse(this.#p, `back reference \\${n} is not RE2 syntax`);
    if (PUNCT.test(n)) return literal(n, inClass);
    if (/[dDwWbBfnrtv]/.test(n)) {
      if (inClass && (n === 'b' || n === 'B')) refuse(this.#p, `\\${n} inside [...]`);
      return `\\${n}`;
    }
    return refuse(this.#p, `unknown escape ${JSON.stringify(this.#p.slice(start, start + 2))}`);
  }

  #unicodeClass(negated: boolean, inClass: boolean): string {
    let name: string;
    if (this.#p[this.#i] === '{') {
      const end = this.#p.indexOf('}', this.#i);
      if (end === -1) refuse(this.#p, 'missing } after \\p{');
      name = this.#p.slice(this.#i + 1, end);
      this.#i = end + 1;
    } else {
      name = this.#p[this.#i] ?? '';
      this.#i++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (name === 'Any') {
      if (negated) refuse(this.#p, '\\P{Any} matches nothing');
      return inClass ? '\\s\\S' : '[\\s\\S]';
    }
    const property = GENERAL_CATEGORY.test(name) ? name : `Script=${name}`;
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  #hex(): string {
    if (this.#p[this.#i] === '{') {
      const end = this.#p.indexOf('}', this.#i);
      if (end === -1) refuse(this.#p, 'missing } after \\x{');
      const digits = this.#p.slice(this.#i + 1, end);
      this.#i = end + 1;
      return `\\u{${digits}}`;
    }
    const digits = this.#p.slice(this.#i, this.#i + 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(digits)) refuse(this.#p, '\\x needs two hex digits or \\x{...}');
    this.#i += 2;
    return `\\x${digits}`;
  }

  /** `\0`, `\07`, `\012`: an octal character code of up to three digits. */
  #octal(): string {
    const digits = /^[0-7]{0,2}/.exec(this.#p.slice(this.#i))?.[0] ?? '';
    this.#i += digits.length;
    return `\\u{${Number.parseInt(`0${digits}`, 8).toString(16)}}`;
  }
}
