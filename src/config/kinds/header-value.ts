// Header values Envoy will accept in a header operation: no control characters but tab, and
// `%VARIABLE%` / `%VAR(args)%` expressions that parse (Istio's header_value_validator.go, itself a
// port of Envoy's header_parser.cc). Only syntax: the variable names are not checked.

// Control characters other than tab (Istio's httpHeaderValueRegexp).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is refused
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

type State =
  | 'literal'
  | 'variableName'
  | 'expectArray'
  | 'expectString'
  | 'string'
  | 'expectDelimiterOrEnd'
  | 'expectArgsEnd'
  | 'expectVariableEnd';

/** What is wrong with a header value, or undefined when Envoy will take it. */
export function headerValueProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return 'must not contain control characters other than tab';
  let state: State = 'literal';
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos] as string;
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'has an unescaped "%" at the end: write "%%" for a literal "%"';
        if (value[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'variableName';
        break;
      case 'variableName':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'expectArray';
        break;
      case 'expectArray':
        if (ch === '[') state = 'expectString';
        else if (ch !== ' ') state = 'string';
        break;
      case 'expectDelimiterOrEnd':
        if (ch === ',') state = 'expectString';
        else if (ch === ']') state = 'expectArgsEnd';
        else if (ch !== ' ')
          return `expected ',', ']' or a space in a %VARIABLE(...)% argument list, got '${ch}'`;
        break;
      case 'expectString':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `expected '"' to start a %VARIABLE(...)% argument, got '${ch}'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return 'has an unterminated backslash in a %VARIABLE(...)% argument';
          pos++;
        } else if (ch === ')') state = 'expectVariableEnd';
        else if (ch === '"') state = 'expectDelimiterOrEnd';
        break;
      case 'expectArgsEnd':
        if (ch === ')') state = 'expectVariableEnd';
        else if (ch !== ' ') return `expected ')' after a %VARIABLE([...])% argument list, got '${ch}'`;
        break;
      case 'expectVariableEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return `expected '%' to close a %VARIABLE(...)% expression, got '${ch}'`;
        break;
    }
  }
  if (state !== 'literal') {
    return 'has an unterminated %VARIABLE% expression: close it with "%", or write "%%" for a literal "%"';
  }
  return undefined;
}
