// The memory bench's caller, run as a workload of its own under `alder run`: it sends GETs to
// svc-1 … svc-N through its HTTP_PROXY (absolute-form requests with the Proxy-Authorization the
// proxy wants), at the bench's command, given over HTTP on ALDER_APP_ADDRESS:BENCH_CLIENT_PORT:
//   GET /check?services=N                       one GET to each service: {"svc-1": 200, ...}
//   GET /load?services=N&rps=R&seconds=S        R GETs a second spread over the N services for S s
// Prints `load-client listening on HOST:PORT` once it takes commands.

import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const NAMESPACE = process.env.BENCH_NAMESPACE ?? 'bench';
const SERVICE_PORT = 9080;
const PATH = '/details/0';
const TIMEOUT_MS = 5_000;

const proxyUrl = new URL(process.env.HTTP_PROXY ?? '');
const proxyAuthorization =
  proxyUrl.username === ''
    ? undefined
    : `Basic ${Buffer.from(`${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`).toString('base64')}`;
// Our own agent (not the global one NODE_USE_ENV_PROXY would wrap): requests go to the proxy as written.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One GET of svc-i through the proxy: the status, or the error's code. */
function get(i: number): Promise<string> {
  const authority = `svc-${i}.${NAMESPACE}:${SERVICE_PORT}`;
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: proxyUrl.hostname,
        port: Number(proxyUrl.port),
        path: `http://${authority}${PATH}`,
        headers: {
          host: authority,
          ...(proxyAuthorization === undefined ? {} : { 'proxy-authorization': proxyAuthorization }),
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', () => resolve('response-error'));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    req.end();
  });
}

async function check(services: number): Promise<Record<string, string>> {
  const statuses = await Promise.all(Array.from({ length: services }, (_, i) => get(i + 1)));
  return Object.fromEntries(statuses.map((s, i) => [`svc-${i + 1}`, s]));
}

/** Paced load: each 10 ms tick sends what is due, round-robin over the services; in flight capped. */
async function load(services: number, rps: number, seconds: number) {
  const outcomes: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const maxInFlight = Math.max(16, rps);
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  const started = performance.now();
  const total = Math.round(rps * seconds);
  const pending = new Set<Promise<void>>();
  while (sent + skipped < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rps));
    while (sent + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      const at = performance.now();
      const i = ((sent + skipped) % services) + 1;
      sent++;
      inFlight++;
      const p: Promise<void> = get(i).then((outcome) => {
        inFlight--;
        latenciesMs.push(performance.now() - at);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - started) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const pct = (p: number) =>
    latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(p * latenciesMs.length))];
  return {
    sent,
    skipped,
    ok: outcomes['200'] ?? 0,
    outcomes,
    achievedRps: Math.round((sent / elapsedS) * 10) / 10,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

function answer(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(value)}\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://client');
  const services = Number(url.searchParams.get('services'));
  if (!Number.isInteger(services) || services < 1) return answer(res, 400, { error: 'want services=N' });
  if (url.pathname === '/check') return answer(res, 200, await check(services));
  if (url.pathname === '/load') {
    const rps = Number(url.searchParams.get('rps'));
    const seconds = Number(url.searchParams.get('seconds'));
    if (!(rps > 0 && seconds > 0)) return answer(res, 400, { error: 'want rps=R&seconds=S' });
    return answer(res, 200, await load(services, rps, seconds));
  }
  answer(res, 404, { error: 'want /check or /load' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: Error) => answer(res, 500, { error: err.message }));
});
server.listen(
  Number(process.env.BENCH_CLIENT_PORT ?? 9090),
  process.env.ALDER_APP_ADDRESS ?? '127.0.0.1',
  () => {
    const a = server.address() as AddressInfo;
    process.stdout.write(`load-client listening on ${a.address}:${a.port} (via ${proxyUrl.host})\n`);
  },
);
process.on('SIGTERM', () => {
  server.close();
  agent.destroy();
  process.exit(0);
});
