// The shape of one `alder` subcommand, and helpers every command shares.

import { AlderError, ErrorCode } from '../config/index.ts';
import { ApiClient, DEFAULT_SERVER } from './client.ts';
import type { CliIo } from './io.ts';

export interface Command {
  name: string;
  /** The whole `alder NAME --help` text. */
  help: string;
  /** Returns the exit code: 0 done, 1 failed. Usage mistakes throw ALDER_USAGE (exit 2). */
  run(argv: string[], io: CliIo): Promise<number>;
}

export const SERVER_OPTION = { server: { type: 'string' } } as const;

export const SERVER_HELP = `  --server URL       control plane address (default: $ALDER_SERVER or ${DEFAULT_SERVER})`;

export function clientFor(server: string | undefined, io: CliIo): ApiClient {
  return new ApiClient(server ?? io.env.ALDER_SERVER ?? DEFAULT_SERVER);
}

/** `virtualservice.networking.istio.io/reviews`, as kubectl names objects. */
export function objectName(kind: string, group: string, name: string): string {
  return `${kind.toLowerCase()}${group === '' ? '' : `.${group}`}/${name}`;
}

export function requireFiles(files: string[] | undefined, command: string): string[] {
  if (files === undefined || files.length === 0) {
    throw new AlderError(ErrorCode.Usage, `${command} needs -f FILE|DIR|-`, {
      hint: `run \`alder ${command} --help\` for usage`,
    });
  }
  return files;
}
