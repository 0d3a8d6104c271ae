// `alder token create|ls|revoke`: join tokens that let a proxy obtain one workload identity from
// the control plane. The token is printed once, on create; the control plane keeps only its hash.

import type { TokenInfo } from '../../control/index.ts';
import { type Command, clientFor, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import type { CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

const PATH = '/alder/v1/tokens';

export const token: Command = {
  name: 'token',
  help: `Manage join tokens: each lets a proxy obtain the identity of one namespace and service account.

Usage:
  alder token create --namespace NS --service-account SA [--ttl 1h] [--uses N] [-o json]
  alder token ls [-o json]
  alder token revoke ID

Options:
  -n, --namespace NS          namespace of the identity the token grants (create)
  --service-account SA        service account of the identity the token grants (create)
  --ttl DURATION              how long the token works, e.g. 30m, 24h (default 1h, at most 168h)
  --uses N                    how many joins it allows (default: any number within the ttl)
  -o, --output json           print JSON
${SERVER_HELP}

The token (alder1.<id>.<secret>.<ca-hash>) is shown once. It carries the hash of the mesh's root
certificate, so a joining proxy checks the control plane before it sends the secret.
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('token', argv, {
      namespace: { type: 'string', short: 'n' },
      'service-account': { type: 'string' },
      ttl: { type: 'string' },
      uses: { type: 'string' },
      output: { type: 'string', short: 'o' },
      ...SERVER_OPTION,
    });
    const format = outputFormat(values.output, ['json'] as const, 'token');
    const [verb, ...rest] = positionals;
    const client = clientFor(values, io);
    if (verb === 'create') {
      if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])}`, 'token');
      if (values.namespace === undefined || values['service-account'] === undefined) {
        throw usageError('token create needs --namespace NS and --service-account SA', 'token');
      }
      const body: Record<string, unknown> = {
        namespace: values.namespace,
        serviceAccount: values['service-account'],
      };
      if (values.ttl !== undefined) body.ttl = values.ttl;
      if (values.uses !== undefined) {
        const uses = Number(values.uses);
        if (!Number.isInteger(uses) || uses < 1)
          throw usageError(`--uses must be a whole number of at least 1, got ${values.uses}`, 'token');
        body.uses = uses;
      }
      const created = await client.request<TokenInfo & { token: string }>('POST', PATH, body);
      if (format === 'json') io.out(`${JSON.stringify(created, null, 2)}\n`);
      else io.out(`${created.token}\n`);
      const uses =
        created.uses === null
          ? 'any number of times'
          : `${created.uses} time${created.uses === 1 ? '' : 's'}`;
      io.err(
        `token ${created.id} grants ${created.namespace}/${created.serviceAccount}, usable ${uses} until ${created.expiresAt}; it is not shown again\n` +
          `use it: alder proxy --control-plane URL --token TOKEN ...\n`,
      );
      return 0;
    }
    if (verb === 'ls' || verb === 'list') {
      if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])}`, 'token');
      const list = await client.request<{ items: TokenInfo[] }>('GET', PATH);
      printList(list.items, format, io);
      return 0;
    }
    if (verb === 'revoke') {
      const [id, extra] = rest;
      if (id === undefined)
        throw usageError('token revoke needs the token ID (see `alder token ls`)', 'token');
      if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra)}`, 'token');
      const revoked = await client.request<TokenInfo>('DELETE', `${PATH}/${encodeURIComponent(id)}`);
      io.out(format === 'json' ? `${JSON.stringify(revoked, null, 2)}\n` : `token ${revoked.id} revoked\n`);
      return 0;
    }
    throw usageError(
      verb === undefined
        ? 'token needs a verb: create, ls or revoke'
        : `unknown verb ${JSON.stringify(verb)}: use create, ls or revoke`,
      'token',
    );
  },
};

function printList(items: TokenInfo[], format: 'json' | undefined, io: CliIo): void {
  if (format === 'json') {
    io.out(`${JSON.stringify({ items }, null, 2)}\n`);
    return;
  }
  if (items.length === 0) {
    io.err('No join tokens found\n');
    return;
  }
  const rows = items.map((t) => [
    t.id,
    t.namespace,
    t.serviceAccount,
    t.expiresAt,
    t.usesLeft === null ? 'unlimited' : String(t.usesLeft),
    t.state,
  ]);
  io.out(formatTable(['ID', 'NAMESPACE', 'SERVICE-ACCOUNT', 'EXPIRES', 'USES-LEFT', 'STATE'], rows));
}
