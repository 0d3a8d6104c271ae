// The `alder` command: finds the subcommand, runs it, and is the one place where errors become
// output — a message and a hint on stderr, exit 1 for failures and 2 for usage mistakes.

import { ErrorCode, isAlderError } from '../config/core.ts';
import { VERSION } from '../version.ts';
import type { Command } from './command.ts';
import { type CliIo, processIo } from './io.ts';

interface CommandEntry {
  name: string;
  summary: string;
  /** Commands load on first use, so that `alder proxy` carries no control-plane code (and memory). */
  load: () => Promise<Command>;
}

const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'apply',
    summary: 'create or update objects from files; all of them or none',
    load: async () => (await import('./commands/apply.ts')).apply,
  },
  { name: 'get', summary: 'list or show objects', load: async () => (await import('./commands/get.ts')).get },
  {
    name: 'delete',
    summary: 'delete objects named in files, or by kind and name',
    load: async () => (await import('./commands/delete.ts')).del,
  },
  {
    name: 'validate',
    summary: 'check config files without a server',
    load: async () => (await import('./commands/validate.ts')).validate,
  },
  {
    name: 'control-plane',
    summary: 'run the control plane (API server and store)',
    load: async () => (await import('./commands/control-plane.ts')).controlPlane,
  },
  {
    name: 'proxy',
    summary: "run one workload's proxy from a snapshot file or a folder of config",
    load: async () => (await import('./commands/proxy.ts')).proxy,
  },
  {
    name: 'run',
    summary: 'run a program as a workload of the mesh, behind its own proxy',
    load: async () => (await import('./commands/run.ts')).run,
  },
  {
    name: 'node',
    summary: 'run the node proxy: one proxy for every workload of this host',
    load: async () => (await import('./commands/node.ts')).node,
  },
  {
    name: 'demo',
    summary: 'run a demo mesh: Bookinfo under alder run, with load (what npm start runs)',
    load: async () => (await import('./commands/demo.ts')).demo,
  },
  {
    name: 'ca',
    summary: "show the mesh CA's roots, or rotate the root",
    load: async () => (await import('./commands/ca.ts')).ca,
  },
  {
    name: 'proxy-status',
    summary: 'show every connected proxy and whether it runs the latest config',
    load: async () => (await import('./commands/proxy-status.ts')).proxyStatus,
  },
  {
    name: 'proxy-config',
    summary: "show a running proxy's routes, clusters or endpoints",
    load: async () => (await import('./commands/proxy-config.ts')).proxyConfig,
  },
  {
    name: 'explain',
    summary: "explain how a workload's proxy routes a request, and why",
    load: async () => (await import('./commands/explain.ts')).explain,
  },
  {
    name: 'token',
    summary: 'create, list or revoke join tokens for proxies',
    load: async () => (await import('./commands/token.ts')).token,
  },
  {
    name: 'version',
    summary: 'print the client and server versions',
    load: async () => (await import('./commands/version.ts')).version,
  },
];

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
    io.out(command === undefined ? overview() : (await command.load()).help);
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
  try {
    const loaded = await command.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(loaded.help);
      return 0;
    }
    return await loaded.run(rest, io);
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
