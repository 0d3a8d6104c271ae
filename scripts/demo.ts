// `npm start`: the demo mesh. Starts a control plane, applies Bookinfo's config from examples/,
// shows what Alder stored and how it refuses a broken file, runs four proxies with mTLS between them
// (scripts/demo-data-plane.ts), then keeps running for you to explore
// (Ctrl-C stops it). `--once` stops after the tour; `--data-dir DIR` keeps the store elsewhere.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { main } from '../src/cli/main.ts';
import { dataPlaneTour } from './demo-data-plane.ts';

const ROOT = join(import.meta.dirname, '..');
const isOnce = process.argv.includes('--once');
const dataDirFlag = process.argv.indexOf('--data-dir');
const dataDir = dataDirFlag === -1 ? join(ROOT, '.alder', 'demo') : String(process.argv[dataDirFlag + 1]);

function say(text: string): void {
  process.stdout.write(`\n\x1b[1m${text}\x1b[0m\n`);
}

async function run(args: string[], server: string): Promise<number> {
  process.stdout.write(`\n$ alder ${args.join(' ')}\n`);
  return main(args, {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stdout.write(t),
    readStdin: async () => '',
    // The CLI finds the admin token the control plane wrote to its data directory.
    env: { ...process.env, ALDER_SERVER: server, ALDER_DATA_DIR: dataDir },
    now: () => Date.now(),
  });
}

async function startControlPlane(listen: string) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'alder.js'),
      'control-plane',
      '--listen',
      listen,
      '--mesh-listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string | undefined>((resolve) => {
    lines.on('line', (line) => {
      if (line.includes('"control plane ready"')) resolve(String((JSON.parse(line) as { url: string }).url));
    });
    child.on('exit', () => resolve(undefined));
  });
  return { child, url };
}

say('Alder demo: starting the control plane (API + embedded SQLite store)');
let cp = await startControlPlane('127.0.0.1:15080');
if (cp.url === undefined) {
  process.stdout.write('port 15080 is taken; using a free port instead\n');
  cp = await startControlPlane('127.0.0.1:0');
}
if (cp.url === undefined) {
  process.stderr.write('error: the control plane did not start; see the messages above\n');
  process.exit(1);
}
const server = cp.url;
process.stdout.write(`control plane ready at ${server} (data in ${dataDir})\n`);

let failed = 0;
say('1. Apply Bookinfo: services, workloads, routing and security, all checked before anything is stored');
failed += await run(['apply', '-f', relative(process.cwd(), join(ROOT, 'examples', 'bookinfo'))], server);
say('2. What the mesh holds now');
failed += await run(['get', 'all', '-A'], server);
say('3. One object, as stored (with its resourceVersion)');
failed += await run(['get', 'vs', 'reviews', '-o', 'yaml'], server);
say('4. A broken file is refused with every mistake, its line and field, and nothing is stored');
const refused = await run(
  ['apply', '-f', relative(process.cwd(), join(ROOT, 'examples', 'broken', 'reviews.yaml'))],
  server,
);
if (refused !== 1) failed++;

const dataPlane = await dataPlaneTour(dataDir, say);
failed += dataPlane.failed;

say(failed === 0 ? 'Tour done.' : `Tour done, but ${failed} step(s) failed: see above.`);
if (isOnce) {
  await dataPlane.stop();
  cp.child.kill('SIGTERM');
  await once(cp.child, 'exit');
  process.exit(failed === 0 ? 0 : 1);
}
process.stdout.write(`
The control plane keeps running at ${server}. In another terminal, try:
  export ALDER_SERVER=${server} ALDER_DATA_DIR=${relative(process.cwd(), dataDir) || '.'}
  npx alder get vs -A -o wide
  npx alder validate -f examples/
  curl -H "Authorization: Bearer $(cat $ALDER_DATA_DIR/admin-token)" ${server}/apis/networking.istio.io/v1/namespaces/default/virtualservices
  http_proxy=http://127.0.20.1:15001 curl http://reviews.shop:9080/
Press Ctrl-C to stop.
`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void dataPlane.stop().then(() => cp.child.kill('SIGTERM'));
  });
}
await once(cp.child, 'exit');
