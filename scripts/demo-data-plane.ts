// The data-plane half of `npm start`: three small apps, four proxies (one per workload, each on
// its own loopback address) speaking mutual TLS, and a few requests that show what a caller sees —
// round robin, the caller's identity at the app, and errors that say where they came from.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { meshCa } from '../test/certs.ts';

const ROOT = join(import.meta.dirname, '..');
const MESH = join(ROOT, 'examples', 'demo-mesh');
const FORWARD_PROXY = { host: '127.0.20.1', port: 15001 };

interface Running {
  stop(): Promise<void>;
  failed: number;
}

function app(port: number, answer: (headers: Record<string, unknown>) => string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`${answer(req.headers)}\n`));
  });
  server.listen(port, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

async function startProxy(workload: string, certs: string[], outboundProxy: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'alder.js'),
      'proxy',
      '--config',
      MESH,
      '--workload',
      `shop/${workload}`,
      '--admin',
      '127.0.0.1:0',
      '--outbound-proxy',
      outboundProxy,
      ...certs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"proxy ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`proxy ${workload} exited with ${code}`)));
  });
  return child;
}

/** What `curl -x http://127.0.20.1:15001 URL` prints: the status line, the flag header if any, the body. */
function viaProxy(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { ...FORWARD_PROXY, path: url, headers: { host: new URL(url).host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => {
          const flag = res.headers['x-alder-response-flags'];
          resolve(
            `HTTP/1.1 ${res.statusCode}${flag === undefined ? '' : `   x-alder-response-flags: ${flag}`}\n${body}`,
          );
        });
      },
    );
    req.on('error', (err) => resolve(`error: ${err.message}\n`));
    req.end();
  });
}

export async function dataPlaneTour(dataDir: string, say: (text: string) => void): Promise<Running> {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    say(
      '5. The data plane needs the openssl command for its demo certificates; it is not installed, so this part is skipped.',
    );
    return { stop: async () => undefined, failed: 0 };
  }
  say('5. The data plane: four proxies with mutual TLS between them (examples/demo-mesh)');
  const certDir = join(dataDir, 'certs');
  mkdirSync(certDir, { recursive: true });
  const issue = meshCa(certDir);
  const certsFor = (sa: string) => {
    const c = issue(`spiffe://cluster.local/ns/shop/sa/${sa}`, sa);
    return ['--cert', c.cert, '--key', c.key, '--ca', c.ca];
  };
  const apps = [
    await app(19081, () => '{"service": "reviews", "version": "v1"}'),
    await app(19082, () => '{"service": "reviews", "version": "v2"}'),
    await app(
      19083,
      (h) => `{"stars": 5, "caller": ${JSON.stringify(String(h['x-forwarded-client-cert'] ?? 'unknown'))}}`,
    ),
  ];
  const proxies: ChildProcess[] = [];
  for (const [workload, sa] of [
    ['reviews-v1', 'reviews'],
    ['reviews-v2', 'reviews'],
    ['ratings', 'ratings'],
  ] as const) {
    proxies.push(await startProxy(workload, certsFor(sa), 'none'));
  }
  proxies.push(await startProxy('client', certsFor('client'), `${FORWARD_PROXY.host}:${FORWARD_PROXY.port}`));
  process.stdout.write(
    'proxies ready: client 127.0.20.1, reviews-v1 127.0.20.2, reviews-v2 127.0.20.3, ratings 127.0.20.4\n',
  );

  let failed = 0;
  const show = async (url: string, want: RegExp): Promise<string> => {
    process.stdout.write(`\n$ http_proxy=http://${FORWARD_PROXY.host}:${FORWARD_PROXY.port} curl ${url}\n`);
    const out = await viaProxy(url);
    process.stdout.write(out);
    if (!want.test(out)) failed++;
    return out;
  };
  say('Round robin over the two reviews workloads, over mTLS:');
  // Round robin starts at a random place in its cycle (as Envoy's does): two calls reach both.
  const first = await show('http://reviews.shop:9080/', /"v[12]"/);
  await show('http://reviews.shop:9080/', first.includes('"v1"') ? /"v2"/ : /"v1"/);
  say('The app sees who called, as the mesh proved it (not as the caller claimed):');
  await show('http://ratings.shop:9080/', /sa\/client/);
  say('Errors the mesh makes itself say so, with a flag and a reason:');
  await show('http://payments.shop:9080/', /NR/);
  apps[2]?.close();
  await show('http://ratings.shop:9080/', /UF/);

  return {
    failed,
    stop: async () => {
      for (const p of proxies) p.kill('SIGTERM');
      await Promise.all(proxies.map((p) => (p.exitCode === null ? once(p, 'exit') : undefined)));
      for (const a of apps) {
        a.closeAllConnections();
        a.close();
      }
    },
  };
}
