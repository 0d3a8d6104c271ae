// The `alder` command: finds the subcommand, runs it, and is the one place where errors become
// output — a message and a hint on stderr, exit 1 for failures and 2 for usage mistakes.

import { ErrorCode, isAlderError } from '../config/index.ts';
import { VERSION } from '../version.ts';
import type { Command } from './command.ts';
import { apply } from './commands/apply.ts';
import { controlPlane } from './commands/control-plane.ts';
import { del } from './commands/delete.ts';
import { get } from './commands/get.ts';
import { proxy } from './commands/proxy.ts';
import { validate } from './commands/validate.ts';
import { version } from './commands/version.ts';
import { type CliIo, processIo } from './io.ts';

const COMMANDS: readonly Command[] = [apply, get, del, validate, controlPlane, proxy, version];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `alder ${VERSION}: a service mesh that explains itself

Usage:
  alder COMMAND [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`alder COMMAND --help\` for a command's options.
`;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) {
      io.err(
        `error: unknown command ${JSON.stringify(topic)}\nhint: run \`alder --help\` for the commands\n`,
      );
      return 2;
    }
    io.out(command?.help ?? overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`error: unknown command ${JSON.stringify(name)}\nhint: run \`alder --help\` for the commands\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIo): number {
  if (isAlderError(err)) {
    io.err(`error: ${err.message}\n`);
    if (err.hint !== undefined) io.err(`hint: ${err.hint}\n`);
    return err.code === ErrorCode.Usage ? 2 : 1;
  }
  io.err(`error: internal: ${(err as Error)?.message ?? String(err)}\n`);
  if (io.env.ALDER_DEBUG) io.err(`${(err as Error)?.stack ?? ''}\n`);
  else io.err('hint: set ALDER_DEBUG=1 to see where it happened, and report it\n');
  return 1;
}
