// The shape of one `alder` subcommand, and helpers every command shares.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../config/index.ts';
import { ApiClient, type ApiClientOptions, DEFAULT_SERVER } from './client.ts';
import type { CliIo } from './io.ts';

export interface Command {
  name: string;
  /** The whole `alder NAME --help` text. */
  help: string;
  /** Returns the exit code: 0 done, 1 failed. Usage mistakes throw ALDER_USAGE (exit 2). */
  run(argv: string[], io: CliIo): Promise<number>;
}

export const SERVER_OPTION = {
  server: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
} as const;

export const SERVER_HELP = `  --server URL       control plane address (default: $ALDER_SERVER or ${DEFAULT_SERVER})
  --token TOKEN      API token (default: $ALDER_TOKEN, else the file admin-token in $ALDER_DATA_DIR
                     or ./.alder, which the control plane writes on its first start)
  --ca FILE          roots to trust for an https:// server (default: $ALDER_CA; the mesh CA's
                     root-cert.pem)`;

/** The folder `alder control-plane` keeps its data in by default; the CLI finds the admin token there. */
export function defaultDataDir(env: Record<string, string | undefined>): string {
  return env.ALDER_DATA_DIR ?? '.alder';
}

export function clientFor(
  values: { server?: string | undefined; token?: string | undefined; ca?: string | undefined },
  io: CliIo,
): ApiClient {
  const options: ApiClientOptions = {};
  const token = findToken(values.token, io.env);
  if (token !== undefined) {
    options.token = token.token;
    options.tokenSource = token.source;
  }
  const caFile = values.ca ?? io.env.ALDER_CA;
  if (caFile !== undefined) options.caPem = readCa(caFile);
  return new ApiClient(values.server ?? io.env.ALDER_SERVER ?? DEFAULT_SERVER, options);
}

function findToken(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): { token: string; source: string } | undefined {
  if (flag !== undefined) return { token: flag, source: '--token' };
  if (env.ALDER_TOKEN !== undefined && env.ALDER_TOKEN !== '')
    return { token: env.ALDER_TOKEN, source: 'ALDER_TOKEN' };
  const file = join(defaultDataDir(env), 'admin-token');
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  return text === '' ? undefined : { token: text, source: file };
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AlderError(
      ErrorCode.Usage,
      `cannot read the CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      {
        hint: "give --ca (or ALDER_CA) the mesh CA's root-cert.pem, from the control plane's <data dir>/ca",
      },
    );
  }
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
