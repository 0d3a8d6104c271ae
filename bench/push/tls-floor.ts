// The floor under the control plane's memory and ping cost per proxy: N connections to a bare
// node:tls server with the mesh port's settings (and to plain TCP, for comparison), nothing of
// Alder's. Measures the server's RSS per connection idle, then after writing each connection a first
// push's worth of bytes, and its CPU while every client pings every 2 s.
// Run: node bench/push/tls-floor.ts [--connections 1000] [--write-kib 124] [--chunk-kib 0]
//      [--in-flight N: write to N connections at a time, not all at once] [--mode tls,tcp]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { PING_INTERVAL_MS, PING_LINE } from '../../src/wire/index.ts';
import { makeCerts } from './certs.ts';
import { Child } from './ipc.ts';

const SERVER = join(import.meta.dirname, 'tls-floor-server.ts');
const IDLE_WINDOW_MS = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  cpuUs: number;
  connections: number;
  lines: number;
}

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    'write-kib': { type: 'string', default: '124' },
    'chunk-kib': { type: 'string', default: '0' },
    'in-flight': { type: 'string', default: '0' },
    mode: { type: 'string', default: 'tls,tcp' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const counts = values.connections.split(',').map(Number);
const writeBytes = Number(values['write-kib']) * 1024;
const chunkBytes = Number(values['chunk-kib']) * 1024;
const inFlight = Number(values['in-flight']);

async function round(
  mode: string,
  n: number,
  tls: { server: Record<string, string>; context: SecureContext },
) {
  const cpuList = values['no-pin'] ? undefined : '1';
  const server = new Child(`${mode} server`, SERVER, { execArgv: ['--expose-gc'], cpuList });
  const sockets: { write(s: string): void; destroy(): void }[] = [];
  const pingers: NodeJS.Timeout[] = [];
  let received = 0;
  try {
    const { port } = await server.ask<{ port: number }>('start', { mode, tls: tls.server });
    const zero = await server.ask<Stats>('stats');
    for (let i = 0; i < n; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, () => {
          return new Promise<void>((resolve, reject) => {
            const s =
              mode === 'tcp'
                ? tcpConnect({ host: '127.0.0.1', port }, () => resolve())
                : connect({ host: '127.0.0.1', port, secureContext: tls.context, servername: '' }, () =>
                    resolve(),
                  );
            s.on('data', (chunk: Buffer) => {
              received += chunk.length;
            });
            s.on('error', reject);
            sockets.push(s);
          });
        }),
      );
    }
    await sleep(500);
    const idle = await server.ask<Stats>('stats');
    await server.ask('write', { bytes: writeBytes, chunkBytes, inFlight }, 120_000);
    const deadline = performance.now() + 120_000;
    while (received < n * writeBytes && performance.now() < deadline) await sleep(50);
    await sleep(500);
    const written = await server.ask<Stats>('stats');
    // Pings spread over the interval, as proxies that connected at different times send them.
    for (const [k, s] of sockets.entries()) {
      const start = setTimeout(
        () => pingers.push(setInterval(() => s.write(PING_LINE), PING_INTERVAL_MS)),
        (k * PING_INTERVAL_MS) / sockets.length,
      );
      pingers.push(start);
    }
    await sleep(PING_INTERVAL_MS + 500);
    const c0 = await server.ask<{ cpuUs: number; lines: number }>('cpu');
    await sleep(IDLE_WINDOW_MS);
    const c1 = await server.ask<{ cpuUs: number; lines: number }>('cpu');
    const kib = (a: number, b: number) => (b - a) / 1024 / n;
    return {
      mode,
      connections: n,
      rssIdleKiB: kib(zero.rssBytes, idle.rssBytes),
      rssAfterWriteKiB: kib(zero.rssBytes, written.rssBytes),
      heapKiB: kib(zero.heapUsedBytes, written.heapUsedBytes),
      pingsPerSecond: ((c1.lines - c0.lines) * 1000) / IDLE_WINDOW_MS,
      cpuShare: (c1.cpuUs - c0.cpuUs) / 1000 / IDLE_WINDOW_MS,
      usPerPing: (c1.cpuUs - c0.cpuUs) / Math.max(1, c1.lines - c0.lines),
    };
  } finally {
    for (const t of pingers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await server.ask('stop', {}, 10_000).catch(() => {});
    await server.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'alder-tls-floor-'));
try {
  const certs = makeCerts(dir, [{ namespace: 'bench', name: 'client' }]);
  const client = certs.clients.client;
  if (client === undefined) throw new Error('no client certificate');
  const context = createSecureContext({
    cert: readFileSync(client.cert),
    key: readFileSync(client.key),
    ca: readFileSync(client.ca),
    minVersion: 'TLSv1.3',
  });
  const server = { key: certs.server.key, cert: certs.server.cert, ca: certs.server.ca };
  process.stdout.write(
    `| server | connections | RSS / conn idle (KiB) | RSS / conn after ${values['write-kib']} KiB written${chunkBytes > 0 ? ` in ${values['chunk-kib']} KiB pieces` : ''}${inFlight > 0 ? `, ${inFlight} at a time` : ''} (KiB) | heap / conn (KiB) | pings / s | CPU (one core) | µs / ping |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`,
  );
  for (const mode of values.mode.split(',')) {
    for (const n of counts) {
      const r = await round(mode, n, { server, context });
      process.stdout.write(
        `| bare ${r.mode === 'tcp' ? 'TCP' : 'node:tls'} | ${n.toLocaleString('en-US')} | ${r.rssIdleKiB.toFixed(1)} | ${r.rssAfterWriteKiB.toFixed(1)} | ${r.heapKiB.toFixed(1)} | ${r.pingsPerSecond.toFixed(0)} | ${(r.cpuShare * 100).toFixed(1)} % | ${r.usPerPing.toFixed(1)} |\n`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
