// The error family every Alder module throws: a stable `code` that crosses process boundaries,
// a message that says what, where and what to do, and structured details for machines.
// Each boundary (CLI, API, proxy) turns these into output in one place.

export const ErrorCode = {
  ConfigInvalid: 'ALDER_CONFIG_INVALID',
  ConfigParse: 'ALDER_CONFIG_PARSE',
  StoreConflict: 'ALDER_STORE_CONFLICT',
  StoreNotFound: 'ALDER_STORE_NOT_FOUND',
  StoreAlreadyExists: 'ALDER_STORE_ALREADY_EXISTS',
  StoreGone: 'ALDER_STORE_GONE',
  StoreUnavailable: 'ALDER_STORE_UNAVAILABLE',
  RequestInvalid: 'ALDER_REQUEST_INVALID',
  RequestTooLarge: 'ALDER_REQUEST_TOO_LARGE',
  NotFound: 'ALDER_NOT_FOUND',
  MethodNotAllowed: 'ALDER_METHOD_NOT_ALLOWED',
  Forbidden: 'ALDER_FORBIDDEN',
  Unauthenticated: 'ALDER_UNAUTHENTICATED',
  Misdirected: 'ALDER_MISDIRECTED',
  UnsupportedMediaType: 'ALDER_UNSUPPORTED_MEDIA_TYPE',
  StoreFull: 'ALDER_STORE_FULL',
  WatchExpired: 'ALDER_WATCH_EXPIRED',
  ServerUnreachable: 'ALDER_SERVER_UNREACHABLE',
  Usage: 'ALDER_USAGE',
  SnapshotInvalid: 'ALDER_SNAPSHOT_INVALID',
  CompileFailed: 'ALDER_COMPILE_FAILED',
  CsrInvalid: 'ALDER_CSR_INVALID',
  CertificateInvalid: 'ALDER_CERTIFICATE_INVALID',
  CaInvalid: 'ALDER_CA_INVALID',
  TokenInvalid: 'ALDER_TOKEN_INVALID',
  TokenRefused: 'ALDER_TOKEN_REFUSED',
  TokenLimit: 'ALDER_TOKEN_LIMIT',
  Internal: 'ALDER_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AlderErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base of every error Alder raises on purpose. Match on `code`, not on the class. */
export class AlderError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AlderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AlderError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function isAlderError(err: unknown): err is AlderError {
  return err instanceof AlderError;
}
