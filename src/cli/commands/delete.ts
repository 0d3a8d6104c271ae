// `alder delete -f FILE | KIND NAME...`: removes objects; with -f, all of them in one batch.

import { findKindByName, KINDS, type SkippedKind } from '../../config/index.ts';
import { collectionPath } from '../../control/index.ts';
import { type Command, clientFor, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import { readSources } from '../sources.ts';
import { parseCommandArgs, usageError } from '../usage.ts';
import { printNotices } from './apply.ts';

interface DeleteAnswer {
  results: { kind: string; group: string; name: string; action: string }[];
  skipped: SkippedKind[];
}

export const del: Command = {
  name: 'delete',
  help: `Delete objects named in files (their specs need not be valid), or by kind and name.
With -f, every object is deleted in one batch; a missing one stops the batch unless
--ignore-not-found is given.

Usage:
  alder delete -f FILE|DIR|- [-n NAMESPACE] [--ignore-not-found]
  alder delete KIND NAME... [-n NAMESPACE] [--ignore-not-found]

Options:
  -f, --filename PATH     file, folder or - (repeatable)
  -n, --namespace NS      namespace (default: default)
      --ignore-not-found  treat a missing object as deleted
${SERVER_HELP}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('delete', argv, {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'ignore-not-found': { type: 'boolean' },
      ...SERVER_OPTION,
    });
    const client = clientFor(values, io);
    const ignoreNotFound = values['ignore-not-found'] === true;
    const files = values.filename ?? [];
    if (files.length > 0) {
      if (positionals.length > 0) throw usageError('give -f or KIND NAME, not both', 'delete');
      const sources = await readSources(files, io);
      const answer = await client.request<DeleteAnswer>('POST', '/alder/v1/delete', {
        sources,
        namespace: values.namespace,
        ignoreNotFound,
      });
      printNotices({ skipped: answer.skipped }, io);
      for (const r of answer.results)
        io.out(`${r.kind.toLowerCase()}${r.group ? `.${r.group}` : ''} "${r.name}" ${r.action}\n`);
      return 0;
    }
    const [kindName, ...names] = positionals;
    if (kindName === undefined || names.length === 0)
      throw usageError('delete needs -f FILE or KIND NAME...', 'delete');
    const info = findKindByName(kindName);
    if (info === undefined) {
      throw usageError(
        `unknown kind ${JSON.stringify(kindName)}; kinds: ${KINDS.map((k) => k.plural).join(', ')}`,
        'delete',
      );
    }
    const base = collectionPath(info, values.namespace ?? 'default');
    let failed = false;
    for (const name of names) {
      try {
        await client.request('DELETE', `${base}/${encodeURIComponent(name)}`);
        io.out(`${info.kind.toLowerCase()}${info.group ? `.${info.group}` : ''} "${name}" deleted\n`);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ALDER_NOT_FOUND' || code === 'ALDER_STORE_NOT_FOUND') {
          if (ignoreNotFound) continue;
          io.err(`error: ${(err as Error).message}\n`);
          failed = true;
          continue;
        }
        throw err;
      }
    }
    return failed ? 1 : 0;
  },
};
