// The error of a failed outbound call, with a stable code that logs, JSON bodies and the load
// generator's counters use: TIMEOUT, PROXY_REFUSED, BODY_TOO_LARGE, BAD_ANSWER, or the system
// error's code (ECONNREFUSED, ECONNRESET, ENOTFOUND…), else NETWORK.

export class CallError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'CallError';
    this.code = code;
  }
}

/** `e` as a CallError whose message starts with `where` (a CallError keeps its own message). */
export function callError(e: unknown, where: string): CallError {
  if (e instanceof CallError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return new CallError(typeof code === 'string' ? code : 'NETWORK', `${where}: ${message}`);
}
