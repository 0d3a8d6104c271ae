// `alder apply -f FILE|DIR|-`: sends every object to the control plane in one request, which stores
// them all or none; prints what changed, kubectl style.

import { formatNotEnforced, type NotEnforcedKind, type SkippedKind } from '../../config/index.ts';
import { type Command, clientFor, objectName, requireFiles, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import type { CliIo } from '../io.ts';
import { readSources } from '../sources.ts';
import { outputFormat, parseCommandArgs } from '../usage.ts';

interface ApplyAnswer {
  results: { kind: string; group: string; namespace: string; name: string; action: string }[];
  skipped: SkippedKind[];
  /** Absent from servers older than the field. */
  notEnforced?: NotEnforcedKind[];
  warnings: string[];
}

export const apply: Command = {
  name: 'apply',
  help: `Create or update the objects in files, folders (recursively) or standard input.
Every object is checked first; if any is invalid, nothing is stored and every error is listed.
Kinds Alder does not manage (Deployment, ConfigMap, ...) are skipped with a notice, and kinds it
stores but does not enforce yet (AuthorizationPolicy, ...) are named in another.

Usage:
  alder apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dry-run] [-o json]

Options:
  -f, --filename PATH  file, folder or - (repeatable)
  -n, --namespace NS   namespace for objects that name none (default: default)
      --dry-run        check on the server, store nothing
  -o, --output json    print the server's answer as JSON
${SERVER_HELP}

Examples:
  alder apply -f samples/bookinfo/
  kustomize build . | alder apply -f -
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'apply',
      argv,
      {
        filename: { type: 'string', short: 'f', multiple: true },
        namespace: { type: 'string', short: 'n' },
        'dry-run': { type: 'boolean' },
        output: { type: 'string', short: 'o' },
        ...SERVER_OPTION,
      },
      0,
    );
    const format = outputFormat(values.output, ['json'] as const, 'apply');
    const sources = await readSources(requireFiles(values.filename, 'apply'), io);
    const answer = await clientFor(values.server, io).request<ApplyAnswer>('POST', '/alder/v1/apply', {
      sources,
      namespace: values.namespace,
      dryRun: values['dry-run'] === true,
    });
    if (format === 'json') {
      io.out(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    }
    const isDryRun = values['dry-run'] === true;
    printNotices(
      {
        skipped: answer.skipped,
        notEnforced: answer.notEnforced ?? [],
        done: isDryRun ? 'validated' : 'stored',
        warnings: answer.warnings,
      },
      io,
    );
    const suffix = isDryRun ? ' (dry run)' : '';
    for (const r of answer.results) io.out(`${objectName(r.kind, r.group, r.name)} ${r.action}${suffix}\n`);
    if (answer.results.length === 0) io.err('no objects to apply\n');
    return 0;
  },
};

export interface Notices {
  skipped: readonly SkippedKind[];
  notEnforced?: readonly NotEnforcedKind[];
  /** What happened to the objects: `stored` by apply (the default), `validated` by validate and dry runs. */
  done?: 'stored' | 'validated';
  warnings?: readonly string[];
}

/** One notice per skipped kind and per kind not enforced yet, then every warning, on stderr. */
export function printNotices(n: Notices, io: CliIo): void {
  for (const s of n.skipped) {
    io.err(`notice: skipped ${s.count} ${s.kind} (${s.apiVersion}): Alder does not manage this kind\n`);
  }
  for (const k of n.notEnforced ?? []) io.err(`notice: ${formatNotEnforced(k, n.done ?? 'stored')}\n`);
  for (const w of n.warnings ?? []) io.err(`warning: ${w}\n`);
}
