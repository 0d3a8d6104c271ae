// The bounds on the proxy's downstream connections, settled once per process: how long a handshake
// and a request head may take, and how many connections the proxy holds at once. Read from ALDER_PROXY_*
// environment variables (docs/proxy.md, "Timeouts and limits"), the defaults where unset; the
// listeners, the mTLS gate and the HTTP/1 and HTTP/2 connection managers read them here.

import { AlderError, ErrorCode, parseDurationMs } from '../../config/core.ts';

export interface ConnectionLimits {
  /** From accept to a finished TLS handshake (Envoy's transport_socket_connect_timeout). */
  handshakeTimeoutMs: number;
  /**
   * How long a request head may take to arrive once one is expected (Envoy's request_headers_timeout):
   * from the connection's start, or from the end of the previous response. For HTTP/2, the client's
   * connection preface and SETTINGS.
   */
  requestHeadersTimeoutMs: number;
  /** Open downstream connections over every listener (Envoy's overload manager, downstream_connections). */
  maxDownstreamConnections: number;
}

export const CONNECTION_LIMIT_DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  requestHeadersTimeoutMs: 10_000,
  maxDownstreamConnections: 10_000,
} as const satisfies ConnectionLimits;

/** Each limit's environment variable, and whether it is a duration or a count. */
const VARIABLES = {
  handshakeTimeoutMs: ['ALDER_PROXY_HANDSHAKE_TIMEOUT', 'duration'],
  requestHeadersTimeoutMs: ['ALDER_PROXY_REQUEST_HEADERS_TIMEOUT', 'duration'],
  maxDownstreamConnections: ['ALDER_PROXY_MAX_DOWNSTREAM_CONNECTIONS', 'count'],
} as const satisfies Record<keyof ConnectionLimits, readonly [string, 'duration' | 'count']>;

let settled: ConnectionLimits | undefined;

/** The limits in force: read from the environment the first time (when the proxy starts), then kept. */
export function connectionLimits(): ConnectionLimits {
  settled ??= readConnectionLimits(process.env);
  return settled;
}

/** The limits `env` sets, defaults elsewhere; throws one AlderError naming every variable it refuses. */
export function readConnectionLimits(env: Readonly<Record<string, string | undefined>>): ConnectionLimits {
  const limits: ConnectionLimits = { ...CONNECTION_LIMIT_DEFAULTS };
  const problems: string[] = [];
  for (const key of Object.keys(VARIABLES) as (keyof ConnectionLimits)[]) {
    const [name, kind] = VARIABLES[key];
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = kind === 'duration' ? parseDurationMs(text) : /^\d+$/.test(text) ? Number(text) : undefined;
    if (value === undefined || value < 1 || !Number.isSafeInteger(Math.round(value))) {
      const want =
        kind === 'duration'
          ? 'a duration of 1ms or more, such as "10s" or "500ms"'
          : 'a whole number above 0';
      problems.push(`${name}: must be ${want}, got ${JSON.stringify(text)}`);
      continue;
    }
    limits[key] = Math.round(value);
  }
  if (problems.length > 0) {
    throw new AlderError(ErrorCode.ConfigInvalid, `proxy limits refused: ${problems.join('; ')}`, {
      hint: 'fix or unset the variables named (docs/proxy.md, "Timeouts and limits", lists the defaults)',
    });
  }
  return limits;
}
