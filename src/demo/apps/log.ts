// JSON log lines on stderr for the demo apps: one object per line, never a stack trace. The
// "listening" line each app prints on stdout is plain text and lives in app-server.ts.

/** Writes `{time, level, app, msg, ...fields}` as one line on stderr. */
export function logLine(
  app: string,
  level: 'info' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
) {
  const line = { time: new Date().toISOString(), level, app, msg, ...fields };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

/** The message of anything thrown, without its stack. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
