// Istio's ValidateDuration for protobuf Duration fields (timeouts, delays, retry budgets): at least
// 1ms and a whole number of milliseconds. Syntax is left to the duration() builder.

import { parseDurationMs } from '../duration.ts';
import { describe, duration, type Schema } from '../schema.ts';

export interface IstioDurationOptions {
  /** Refuse fractions of a second, as Istio does for CORS maxAge. */
  wholeSeconds?: boolean;
}

export function istioDuration(options: IstioDurationOptions = {}): Schema<string> {
  const base = duration({ minMs: 1 });
  return {
    expected: base.expected,
    check(value, c) {
      if (!base.check(value, c)) return false;
      const ms = parseDurationMs(value as string) as number;
      if (options.wholeSeconds && ms % 1000 !== 0) {
        c.error(`must be a whole number of seconds, got ${describe(value)}`);
        return false;
      }
      if (!Number.isInteger(Math.round(ms * 1e6) / 1e6)) {
        c.error(`must be a whole number of milliseconds, got ${describe(value)}`);
        return false;
      }
      return true;
    },
  };
}
