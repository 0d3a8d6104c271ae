// Istio durations ("10s", "1.5s", "250ms") as whole milliseconds, the unit every wire field uses.

import { parseDurationMs } from '../config/index.ts';

/** Whole milliseconds (rounded), or undefined when the text is absent or not a duration. */
export function msOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  return ms === undefined ? undefined : Math.round(ms);
}
