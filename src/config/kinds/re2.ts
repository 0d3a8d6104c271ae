// RE2 patterns in config (Istio's StringMatch regex, uriRegexRewrite …): refused when RE2 cannot run
// them (look-around, back references) or when they do not translate or compile. The translation is
// ../re2-regexp.ts, the same the proxy matches with, so what validation accepts the proxy can run.

import { translateRe2 } from '../re2-regexp.ts';
import type { Checker } from '../schema.ts';

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
    const t = translateRe2(pattern);
    new RegExp(t.source, t.flags);
    return true;
  } catch (err) {
    c.error(
      `must be a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
    return false;
  }
}
