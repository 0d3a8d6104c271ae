// Command-line parsing shared by every command: node:util parseArgs in strict mode, with mistakes
// turned into usage errors (exit code 2) that name the option and point at --help.

import { AlderError, ErrorCode } from '../config/core.ts';

// node:util is taken as the CommonJS object: an ES import of it builds a namespace of every export,
// whose getters load worker_threads and more (0.5 MiB of RSS in every command, the proxy's too).
const { parseArgs } = process.getBuiltinModule('node:util');

export type OptionSpec = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }
>;

export function usageError(message: string, command: string): AlderError {
  return new AlderError(ErrorCode.Usage, message, { hint: `run \`alder ${command} --help\` for usage` });
}

/** Parses argv for `command`; `--help`/`-h` are always accepted. */
export function parseCommandArgs<O extends OptionSpec>(
  command: string,
  argv: string[],
  options: O,
  maxPositionals = Infinity,
) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.positionals.length > maxPositionals) {
      throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`, command);
    }
    return parsed;
  } catch (err) {
    if (err instanceof AlderError) throw err;
    const message = (err as Error).message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/'/g, '');
    throw usageError(message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, ''), command);
  }
}

/** The output formats `-o` takes for a command, checked. */
export function outputFormat<F extends string>(
  value: string | undefined,
  allowed: readonly F[],
  command: string,
): F | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw usageError(`-o must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, command);
  }
  return value as F;
}

/** `HOST:PORT` (`[::1]:PORT` for IPv6; an empty host is 127.0.0.1), or a usage error naming `flag`. */
export function parseHostPort(text: string, flag: string, command: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535)
    throw usageError(`${flag} must be HOST:PORT, got ${JSON.stringify(text)}`, command);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
