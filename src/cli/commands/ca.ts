// `alder ca`: the mesh CA's roots, and a root rotation that keeps every connection working (the old
// root stays trusted for an overlap while proxies take the new bundle and renew).

import { type Command, clientFor, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

interface CaAnswer {
  mode: string;
  trustDomain: string;
  fingerprint: string;
  signerNotAfter: string;
  trustBundle: string;
}

export const ca: Command = {
  name: 'ca',
  help: `Show the mesh CA, or rotate its root.

Usage:
  alder ca show [-o json]
  alder ca rotate [--overlap DURATION] [-o json]

rotate makes a new root and signs every new certificate with it; the old root stays in the trust
bundle for the overlap (default: twice the workload certificate lifetime, at least 48h). The
control plane pushes the new bundle to every proxy at once, and proxies move to certificates from
the new root as they renew. An operator's plug-in CA (--ca-dir) is rotated by replacing its files.

Options:
  --overlap DURATION   how long the old root stays trusted, e.g. 72h
  -o, --output json    print the control plane's answer as JSON
${SERVER_HELP}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'ca',
      argv,
      { overlap: { type: 'string' }, output: { type: 'string', short: 'o' }, ...SERVER_OPTION },
      1,
    );
    const format = outputFormat(values.output, ['json'] as const, 'ca');
    const verb = positionals[0] ?? 'show';
    if (verb !== 'show' && verb !== 'rotate')
      throw usageError(`unknown ca command ${JSON.stringify(verb)}: use show or rotate`, 'ca');
    if (verb === 'show' && values.overlap !== undefined) throw usageError('--overlap goes with rotate', 'ca');
    const client = clientFor(values, io);
    const answer =
      verb === 'show'
        ? await client.request<CaAnswer>('GET', '/alder/v1/ca')
        : await client.request<CaAnswer>(
            'POST',
            '/alder/v1/ca/rotate',
            values.overlap === undefined ? {} : { overlap: values.overlap },
          );
    if (format === 'json') {
      io.out(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    }
    const roots = (answer.trustBundle.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
    if (verb === 'rotate')
      io.err(
        'root rotated: new certificates come from the new root; the old one stays trusted for the overlap\n',
      );
    io.out(`CA:            ${answer.mode} (trust domain ${answer.trustDomain})\n`);
    io.out(`root:          ${answer.fingerprint}\n`);
    io.out(`signs until:   ${answer.signerNotAfter}\n`);
    io.out(`trusted roots: ${roots}\n`);
    return 0;
  },
};
