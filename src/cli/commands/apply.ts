// `alder apply -f FILE|DIR|-`: sends every object to the control plane in one request, which stores
// them all or none; prints what changed, kubectl style.

import {
  formatDurationMs,
  formatNotEnforced,
  type NotEnforcedKind,
  parseDurationMs,
  type SkippedKind,
} from '../../config/index.ts';
import type { ApiClient } from '../client.ts';
import { type Command, clientFor, objectName, requireFiles, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import type { CliIo } from '../io.ts';
import { fetchProxyStatus, nackReasons, syncReport } from '../proxy-sync.ts';
import { readSources } from '../sources.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

interface ApplyAnswer {
  /** The store revision after the write. */
  revision: string;
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
  alder apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dry-run] [--wait [--timeout 30s]] [-o json]

Options:
  -f, --filename PATH  file, folder or - (repeatable)
  -n, --namespace NS   namespace for objects that name none (default: default)
      --dry-run        check on the server, store nothing
      --wait           return only when every connected proxy runs the change (has acknowledged it,
                       or is not concerned by it); exit 1 naming each proxy that refused it or lags
      --timeout DUR    how long --wait waits (default 30s)
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
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
        output: { type: 'string', short: 'o' },
        ...SERVER_OPTION,
      },
      0,
    );
    const format = outputFormat(values.output, ['json'] as const, 'apply');
    const timeoutMs = parseDurationMs(values.timeout ?? '30s');
    if (timeoutMs === undefined || timeoutMs <= 0) {
      throw usageError(
        `--timeout must be a duration such as 30s or 2m, got ${JSON.stringify(values.timeout)}`,
        'apply',
      );
    }
    if (values.timeout !== undefined && values.wait !== true)
      throw usageError('--timeout goes with --wait', 'apply');
    const client = clientFor(values, io);
    const sources = await readSources(requireFiles(values.filename, 'apply'), io);
    const answer = await client.request<ApplyAnswer>('POST', '/alder/v1/apply', {
      sources,
      namespace: values.namespace,
      dryRun: values['dry-run'] === true,
    });
    const shouldWait = values.wait === true && values['dry-run'] !== true;
    if (format === 'json') {
      io.out(`${JSON.stringify(answer, null, 2)}\n`);
      return shouldWait ? waitForProxies(client, Number(answer.revision), timeoutMs, io) : 0;
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
    return shouldWait ? waitForProxies(client, Number(answer.revision), timeoutMs, io) : 0;
  },
};

/**
 * Polls proxy-status until every connected proxy runs `revision` (0), one refused it (1, with the
 * proxy's reason), or the timeout passes (1, naming each proxy still behind). Progress on stderr.
 */
async function waitForProxies(
  client: ApiClient,
  revision: number,
  timeoutMs: number,
  io: CliIo,
): Promise<number> {
  const started = Date.now();
  let lastProgress = '';
  let lastPrinted = 0;
  for (;;) {
    const answer = await fetchProxyStatus(client);
    const report = syncReport(answer, revision);
    const total = answer.items.length;
    if (report.isDone) {
      for (const r of report.nacked) {
        io.err(
          `error: ${r.workload} (${r.address}) refused revision ${revision}: ${nackReasons(r).join('; ')}\n`,
        );
      }
      if (report.nacked.length > 0) {
        io.err(
          `${report.synced.length} of ${total} proxies run revision ${revision}; ${report.nacked.length} refused it and serve their last good config\n`,
        );
        return 1;
      }
      const took = ((Date.now() - started) / 1000).toFixed(1);
      io.err(
        total === 0 ? 'no proxies connected\n' : `all ${total} proxies run revision ${revision} (${took}s)\n`,
      );
      return 0;
    }
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs) {
      io.err(`error: not every proxy runs revision ${revision} after ${formatDurationMs(timeoutMs)}:\n`);
      for (const r of report.behind) {
        const states = Object.entries(r.types)
          .filter(([, t]) => t?.state !== 'SYNCED')
          .map(([type, t]) => `${type} ${t?.state}`);
        io.err(
          `  ${r.workload} (${r.address}) runs revision ${r.syncedRevision}${states.length > 0 ? `: ${states.join(', ')}` : ''}${r.lastError === undefined ? '' : `: ${r.lastError}`}\n`,
        );
      }
      for (const r of report.nacked)
        io.err(`  ${r.workload} (${r.address}) refused it: ${nackReasons(r).join('; ')}\n`);
      return 1;
    }
    const progress = `waiting: ${report.synced.length} of ${total} proxies run revision ${revision}`;
    if (progress !== lastProgress || elapsed - lastPrinted >= 2000) {
      io.err(`${progress}\n`);
      lastProgress = progress;
      lastPrinted = elapsed;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

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
