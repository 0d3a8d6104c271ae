// The light public face of the config model, for code that runs without config files (the proxy,
// the wire codec, the CLI's entry point): errors, the RE2 translator and the validator language.
// Loads no YAML library and no kind schemas; index.ts is the whole model.

export { formatDurationMs, parseDurationMs } from './duration.ts';
export { AlderError, type AlderErrorOptions, ErrorCode, isAlderError } from './errors.ts';
export { GRPC_STATUS_NAMES } from './kinds/http-fault.ts';
export { RETRY_CONDITIONS } from './kinds/http-retry.ts';
export { compileRe2, type Re2Translation, translateRe2 } from './re2-regexp.ts';
export * as schema from './schema.ts';
