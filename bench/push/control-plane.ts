// The control plane under test, in a process of its own (started by run.ts with --expose-gc): runs
// startControlPlane with its mesh port on TLS the bench made, writes config to its store on command,
// and reports memory after gc and CPU time. Answers over IPC (see ipc.ts).

import { readFileSync } from 'node:fs';
import { loadSources } from '../../src/config/index.ts';
import { type ControlPlane, startControlPlane } from '../../src/control/index.ts';
import { createLogger } from '../../src/telemetry/index.ts';
import { nowMs, serve } from './ipc.ts';

let cp: ControlPlane | undefined;

function running(): ControlPlane {
  if (cp === undefined) throw new Error('the control plane is not started');
  return cp;
}

async function write(yaml: string): Promise<{ revision: number; writtenAt: number; writeMs: number }> {
  const loaded = loadSources([{ name: 'bench.yaml', text: yaml }]);
  if (loaded.errors.length > 0) {
    throw new Error(`bench config does not load: ${loaded.errors.map((e) => e.message).join('; ')}`);
  }
  const started = nowMs();
  const out = await running().store.write(
    loaded.resources.map((r) => ({ op: 'apply' as const, object: r.resource })),
  );
  const writtenAt = nowMs();
  return { revision: Number(out.revision), writtenAt, writeMs: writtenAt - started };
}

serve({
  async start(args) {
    const files = args.tls as { key: string; cert: string; ca: string };
    cp = await startControlPlane({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: String(args.dataDir),
      maxBodyBytes: 64 << 20,
      log: createLogger({ level: 'error' }),
      mesh: {
        listen: { host: '127.0.0.1', port: 0 },
        tls: {
          key: readFileSync(files.key, 'utf8'),
          cert: readFileSync(files.cert, 'utf8'),
          ca: readFileSync(files.ca, 'utf8'),
        },
      },
    });
    return { meshPort: Number(new URL(cp.meshUrl as string).port) };
  },
  write: (args) => write(String(args.yaml)),
  /** Separate writes one after another, as fast as the store takes them. */
  async burst(args) {
    const out = [];
    for (const yaml of args.yamls as string[]) out.push(await write(yaml));
    return { first: out[0], last: out[out.length - 1] };
  },
  stats() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('start the control plane with --expose-gc');
    gc();
    gc();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    const status = cp?.distributor?.status() ?? [];
    return {
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      heapTotalBytes: m.heapTotal,
      externalBytes: m.external,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      connected: status.length,
      revision: cp?.distributor?.revision ?? 0,
    };
  },
  cpu() {
    const cpu = process.cpuUsage();
    return { cpuUserUs: cpu.user, cpuSystemUs: cpu.system };
  },
  async stop() {
    await cp?.stop();
    cp = undefined;
    setImmediate(() => process.exit(0));
    return {};
  },
});
