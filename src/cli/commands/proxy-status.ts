// `alder proxy-status`: every proxy connected to the control plane, what it runs, and whether it is
// in sync (istioctl proxy-status's view, per resource type).

import { type Command, clientFor, SERVER_HELP, SERVER_OPTION } from '../command.ts';
import { columnState, fetchProxyStatus, nackReasons, RESOURCE_COLUMNS } from '../proxy-sync.ts';
import { formatAge, formatTable } from '../table.ts';
import { outputFormat, parseCommandArgs } from '../usage.ts';

export const proxyStatus: Command = {
  name: 'proxy-status',
  help: `Show every proxy connected to the control plane: its workload, address and identity, per
resource type whether it runs the latest config (SYNCED), has been sent a change it has not
acknowledged yet (STALE) or refused one (NACKED, with the proxy's reason), the store revision it
runs, and when its certificate expires.

Usage:
  alder proxy-status [-o json|wide]

Options:
  -o, --output FORMAT  json (the control plane's answer), or wide (identity, agent and the
                       stream each workload is on: a node proxy's workloads share one)
${SERVER_HELP}
`,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      'proxy-status',
      argv,
      { output: { type: 'string', short: 'o' }, ...SERVER_OPTION },
      0,
    );
    const format = outputFormat(values.output, ['json', 'wide'] as const, 'proxy-status');
    const answer = await fetchProxyStatus(clientFor(values, io));
    if (format === 'json') {
      io.out(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    }
    if (answer.items.length === 0) {
      io.err('no proxies connected\n');
      return 0;
    }
    const now = Date.now();
    const wide = format === 'wide';
    const headers = [
      'WORKLOAD',
      'ADDRESS',
      ...RESOURCE_COLUMNS.map(([, h]) => h),
      'REVISION',
      'CERT EXPIRES',
      'CONNECTED',
      ...(wide ? ['IDENTITY', 'AGENT', 'CONNECTION'] : []),
    ];
    const rows = [...answer.items]
      .sort((a, b) => a.workload.localeCompare(b.workload))
      .map((r) => [
        r.workload,
        r.address,
        ...RESOURCE_COLUMNS.map(([types]) => columnState(r, types)),
        r.syncedRevision,
        r.certificateExpiry === undefined
          ? '-'
          : `in ${formatAge(new Date(now).toISOString(), Date.parse(r.certificateExpiry))}`,
        formatAge(r.connectedAt, now),
        ...(wide ? [r.identity, r.agent, r.connection ?? '-'] : []),
      ]);
    io.out(formatTable(headers, rows));
    for (const r of answer.items) {
      for (const reason of nackReasons(r)) io.out(`${r.workload}: NACKED ${reason}\n`);
      if (nackReasons(r).length === 0 && r.lastError !== undefined) io.out(`${r.workload}: ${r.lastError}\n`);
    }
    return 0;
  },
};
