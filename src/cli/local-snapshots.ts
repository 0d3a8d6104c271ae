// `alder proxy --config DIR`: reads Istio YAML from a folder, checks it as admission would, compiles
// this workload's snapshot with the same compiler the control plane uses, and does it again when
// files change. A folder that does not check out is reported and the last good snapshot stays.

import { watch } from 'node:fs';
import { compileSnapshot } from '../compile/index.ts';
import { formatFinding, loadSources } from '../config/index.ts';
import type { Logger } from '../telemetry/index.ts';
import type { ProxyTls, Snapshot } from '../wire/index.ts';
import type { CliIo } from './io.ts';
import { readSources } from './sources.ts';

export interface LocalSnapshotOptions {
  dir: string;
  workload: { namespace: string; name: string };
  tls: ProxyTls | undefined;
  outboundProxy: { address: string; port: number } | null;
  io: CliIo;
  log: Logger;
}

/** Compiles the folder once; throws with every problem when it cannot. */
export async function compileFolder(o: LocalSnapshotOptions): Promise<Snapshot> {
  const loaded = loadSources(await readSources([o.dir], o.io));
  if (loaded.errors.length > 0) {
    throw new Error(
      `config in ${o.dir} refused (${loaded.errors.length} errors):\n${loaded.errors.map(formatFinding).join('\n')}`,
    );
  }
  return compileSnapshot(
    loaded.resources.map((r) => r.resource),
    { workload: o.workload, tls: o.tls, outboundProxy: o.outboundProxy },
  );
}

/** Calls `onSnapshot` after each change to the folder (debounced); stop() ends the watch. */
export function watchFolder(o: LocalSnapshotOptions, onSnapshot: (s: Snapshot) => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    compileFolder(o).then(onSnapshot, (err: Error) =>
      o.log.error('config change refused, keeping the last good snapshot', {
        dir: o.dir,
        reason: err.message,
      }),
    );
  };
  const watcher = watch(o.dir, { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  return {
    stop: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
