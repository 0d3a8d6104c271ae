// `alder validate -f FILE|DIR|-`: checks config offline, with the same code as admission, and prints
// every problem with its file, line, object and field.

import { formatFinding, loadSources, notEnforcedKinds } from '../../config/index.ts';
import { type Command, requireFiles } from '../command.ts';
import { readSources } from '../sources.ts';
import { outputFormat, parseCommandArgs } from '../usage.ts';
import { printNotices } from './apply.ts';

export const validate: Command = {
  name: 'validate',
  help: `Check objects in files, folders (recursively) or standard input, offline, exactly as the
control plane's admission would. Exits 1 when any object has an error. Kinds Alder does not manage
are skipped, and kinds it does not enforce yet are named, each with one notice.

Usage:
  alder validate -f FILE|DIR|- [-f ...] [-n NAMESPACE] [-o json]

Options:
  -f, --filename PATH  file, folder or - (repeatable)
  -n, --namespace NS   namespace for objects that name none (default: default)
  -o, --output json    findings as JSON
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'validate',
      argv,
      {
        filename: { type: 'string', short: 'f', multiple: true },
        namespace: { type: 'string', short: 'n' },
        output: { type: 'string', short: 'o' },
      },
      0,
    );
    const format = outputFormat(values.output, ['json'] as const, 'validate');
    const sources = await readSources(requireFiles(values.filename, 'validate'), io);
    const started = performance.now();
    const result = loadSources(sources, { defaultNamespace: values.namespace ?? 'default' });
    const ms = performance.now() - started;
    const notEnforced = notEnforcedKinds(result.resources.map((l) => l.info));
    if (format === 'json') {
      const { resources, ...rest } = result;
      const valid = result.errors.length === 0;
      io.out(`${JSON.stringify({ valid, objects: resources.length, ...rest, notEnforced }, null, 2)}\n`);
      return valid ? 0 : 1;
    }
    printNotices(
      {
        skipped: result.skipped,
        notEnforced,
        done: 'validated',
        warnings: result.warnings.map(formatFinding),
      },
      io,
    );
    for (const e of result.errors) io.out(`${formatFinding(e)}\n`);
    const files = sources.length === 1 ? '1 file' : `${sources.length} files`;
    const objects = result.resources.length === 1 ? '1 object' : `${result.resources.length} objects`;
    if (result.errors.length > 0) {
      const errors = result.errors.length === 1 ? '1 error' : `${result.errors.length} errors`;
      io.err(`${errors} in ${files}\n`);
      return 1;
    }
    io.err(`${objects} valid in ${files} (${ms.toFixed(0)} ms)\n`);
    return 0;
  },
};
