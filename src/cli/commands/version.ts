// `alder version`: the client's version and, when reachable, the control plane's.

import { VERSION } from '../../version.ts';
import { type Command, clientFor, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import { outputFormat, parseCommandArgs } from '../usage.ts';

export const version: Command = {
  name: 'version',
  help: `Print the version of this alder and of the control plane it talks to.

Usage:
  alder version [--client] [-o json]

Options:
      --client         do not ask the server
  -o, --output json    as JSON
${SERVER_HELP}
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'version',
      argv,
      { client: { type: 'boolean' }, output: { type: 'string', short: 'o' }, ...SERVER_OPTION },
      0,
    );
    const format = outputFormat(values.output, ['json'] as const, 'version');
    let server: { version: string; store: string } | { error: string } | undefined;
    if (!values.client) {
      try {
        server = await clientFor(values, io).request<{ version: string; store: string }>('GET', '/version');
      } catch (err) {
        server = { error: (err as Error).message };
      }
    }
    if (format === 'json') {
      io.out(`${JSON.stringify({ client: { version: VERSION, node: process.version }, server }, null, 2)}\n`);
      return server !== undefined && 'error' in server ? 1 : 0;
    }
    io.out(`Client Version: ${VERSION} (Node.js ${process.version})\n`);
    if (server === undefined) return 0;
    if ('error' in server) {
      io.err(`error: ${server.error}\n`);
      return 1;
    }
    io.out(`Server Version: ${server.version} (store: ${server.store})\n`);
    return 0;
  },
};
