// The literal text every whole-string match of an RE2 pattern must start with, read off the pattern
// at compile time: a cheap startsWith before running the RegExp, and a key for the route index.
// Conservative: '' whenever the pattern's start is not plain literal text.

/** RE2's metacharacters; every other character stands for itself. */
const META = new Set('\\.+*?()|[]{}^$'.split(''));
const PUNCT = /[!-/:-@[-`{-~]/;

/** The literal prefix of `pattern` as an anchored match, or '' (no claim). */
export function re2LiteralPrefix(pattern: string): string {
  if (pattern.includes('\\Q') || hasTopLevelAlternation(pattern)) return '';
  let i = pattern.startsWith('^') ? 1 : 0;
  let out = '';
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    let lit = ch;
    let next = i + 1;
    if (ch === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || !PUNCT.test(n)) break;
      lit = n;
      next = i + 2;
    } else if (META.has(ch)) {
      break;
    }
    // A quantifier makes this character optional or repeated: stop before it.
    const q = pattern[next];
    if (q === '*' || q === '+' || q === '?' || q === '{') break;
    out += lit;
    i = next;
  }
  return out;
}

/** Whether a `|` outside any group or class splits the whole pattern. */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}
