// `alder run` with real processes: a control plane, workloads each under `alder run` on a loopback
// address of its own, apps that are plain Node programs using HTTP_PROXY, and curl as the caller.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from './harness.ts';
import { curl } from './mesh-fixture.ts';
import {
  ensureStopped,
  httpProxyOf,
  MESH_APP,
  type RunMesh,
  type RunningWorkload,
  startRun,
  startRunMesh,
  steadyLoad,
  waitForOutput,
} from './run-kit.ts';

const NS = 'runs';
const WEB_A = '127.0.98.1';
const WEB_B = '127.0.98.2';
const CLIENT = '127.0.98.3';
const BATCH = '127.0.98.4';

describe('alder run', () => {
  const dir = tempDir('run');
  let mesh: RunMesh;
  const running: RunningWorkload[] = [];
  const run = (args: string[], env?: Record<string, string>) => {
    const w = startRun(args, env);
    running.push(w);
    return w;
  };

  let webA: RunningWorkload;
  before(async () => {
    mesh = await startRunMesh(dir);
    webA = run(
      [
        ...mesh.runArgs({
          namespace: NS,
          service: 'web',
          address: WEB_A,
          token: await mesh.token(NS, 'web'),
        }),
        ...['--service', 'web', '--port', 'http:8080', '--', process.execPath, MESH_APP, 'serve'],
      ],
      { SLOW_MS: '150' },
    );
  });
  after(async () => {
    await Promise.all(running.map(ensureStopped));
    await mesh?.cp.stop();
    removeDir(dir);
  });

  it('starts the app only once its proxy holds config and a certificate; a batch job calls a service through the mesh with its own identity and exits 0', async () => {
    const web = webA;
    await waitForOutput(web, 'ready');
    const started = web.logs.findIndex((l) => l.msg === 'app started');
    const applied = web.logs.findIndex((l) => l.msg === 'snapshot applied');
    const joined = web.logs.findIndex((l) => l.msg === 'joined the mesh');
    assert.ok(
      joined !== -1 && applied > joined && started > applied,
      `want: joined, then a snapshot applied, then the app started\n${web.transcript()}`,
    );
    assert.match(web.output(), /env ALDER_APP_ADDRESS=127\.100\.98\.1/, 'want the app told where to listen');
    assert.match(
      web.output(),
      /env HTTP_PROXY=http:\/\/alder:[\w-]+@127\.0\.98\.1:15001/,
      'want HTTP_PROXY at its own address, with credentials of its own',
    );

    const batch = run([
      ...mesh.runArgs({
        namespace: NS,
        service: 'batch',
        address: BATCH,
        token: await mesh.token(NS, 'batch'),
      }),
      ...['--service', 'batch', '--', process.execPath, MESH_APP, 'call', `http://web.${NS}:8080/hello`],
    ]);
    const code = await batch.exited;
    assert.equal(code, 0, `want the batch job to exit 0, as it would alone\n${batch.transcript()}`);
    assert.match(batch.output(), /status 200/, `want its first request answered\n${batch.transcript()}`);
    assert.match(
      batch.output(),
      new RegExp(
        `"xfcc":"By=spiffe://cluster.local/ns/${NS}/sa/web;[^"]*URI=spiffe://cluster.local/ns/${NS}/sa/batch"`,
      ),
      `want web to see the batch job's own identity\n${batch.output()}`,
    );
    const entries = await mesh.cli(['get', 'workloadentries', '-n', NS, '-o', 'json']);
    assert.doesNotMatch(
      entries.stdout,
      /batch-127\.0\.98\.4/,
      'want the batch job unregistered once it exited',
    );
  });

  it('passes the exit status through: the app’s code, 127 for a command that is not found', async () => {
    const token = await mesh.token(NS, 'job');
    const three = run([
      ...mesh.runArgs({ namespace: NS, service: 'job', address: '127.0.98.5', token }),
      ...['--service', 'job', '--', process.execPath, '-e', 'process.exit(3)'],
    ]);
    assert.equal(await three.exited, 3, `want exit 3\n${three.transcript()}`);
    const missing = run([
      ...mesh.runArgs({ namespace: NS, service: 'job', address: '127.0.98.6', token }),
      ...['--service', 'job', '--', 'no-such-command-here'],
    ]);
    assert.equal(await missing.exited, 127, `want 127, as a shell says\n${missing.transcript()}`);
    assert.match(missing.transcript(), /no-such-command-here: command not found/);
  });

  it('lets no other process send as a workload: its HTTP_PROXY wants the credentials only its app was given', async () => {
    await waitForOutput(webA, 'ready');
    const bare = await curl(['-x', `http://${WEB_A}:15001`, `http://web.${NS}:8080/`]);
    assert.equal(bare.status, 407, `want 407 without credentials, got ${bare.status} ${bare.body}`);
    assert.match(bare.headers, /proxy-authenticate: Basic realm="alder"/i);
    assert.match(bare.body, /send the credentials in this workload's HTTP_PROXY/);
    const other = new URL(httpProxyOf(webA));
    other.password = 'not-the-secret';
    const wrong = await curl(['-x', other.toString(), `http://web.${NS}:8080/`]);
    assert.equal(wrong.status, 407, `want 407 with a wrong password, got ${wrong.status}`);
    const tunnel = await curl(['-p', '-x', `http://${WEB_A}:15001`, `http://web.${NS}:8080/`]).catch(
      (err: Error) => ({ status: 0, headers: err.message, body: '' }),
    );
    assert.notEqual(tunnel.status, 200, 'want a CONNECT without credentials refused too');
    const right = await curl(['-x', httpProxyOf(webA), `http://web.${NS}:8080/`]);
    assert.equal(
      right.status,
      200,
      `want 200 with the app's own HTTP_PROXY, got ${right.status} ${right.body}`,
    );
  });

  it('drains on SIGTERM: out of rotation first, requests in flight finish, zero failed requests at the callers, exit 0', async () => {
    const second = run(
      [
        ...mesh.runArgs({
          namespace: NS,
          service: 'web',
          address: WEB_B,
          token: await mesh.token(NS, 'web'),
        }),
        ...['--service', 'web', '--port', 'http:8080', '--', process.execPath, MESH_APP, 'serve'],
      ],
      { SLOW_MS: '150' },
    );
    await waitForOutput(second, 'ready');
    const client = run(
      await mesh.appArgs({ namespace: NS, service: 'client', address: CLIENT, mode: ['wait'] }),
    );
    await waitForOutput(client, 'ready');
    const proxy = httpProxyOf(client);
    // Both web workloads answer before the one goes.
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await curl(['-x', proxy, `http://web.${NS}:8080/`]);
      assert.equal(r.status, 200, `want web answering; got ${r.status} ${r.body}`);
      seen.add(String((JSON.parse(r.body) as { workload: string }).workload));
    }
    assert.equal(seen.size, 2, `want both web workloads in rotation, saw ${[...seen].join(', ')}`);

    const load = steadyLoad(proxy, `http://web.${NS}:8080/load`, 4);
    const { results } = load;
    while (results.length < 20) await new Promise((r) => setTimeout(r, 20));
    await waitForOutput(webA, 'ready');
    const web = webA;
    web.process.kill('SIGTERM');
    const code = await web.exited;
    const atExit = results.length;
    while (results.length < atExit + 20) await new Promise((r) => setTimeout(r, 20));
    await load.stop();

    assert.equal(code, 0, `want alder run to exit with the app's 0\n${web.transcript()}`);
    assert.match(web.output(), /stopping/, 'want SIGTERM passed on to the app');
    const failed = results.filter((r) => r !== 'ok');
    assert.deepEqual(failed, [], `want no failed request among ${results.length} while web drained`);
    const [draining = -1, outOfRotation = -1, inboundDrained = -1] = [
      'draining',
      'out of every caller’s rotation',
      'inbound drained',
    ].map((msg) => web.logs.findIndex((l) => l.msg === msg));
    assert.ok(
      draining !== -1 && outOfRotation > draining && inboundDrained > outOfRotation,
      `want the drain in order (rotation, then inbound)\n${web.transcript()}`,
    );
    const drained = web.logs.find((l) => l.msg === 'out of every caller’s rotation');
    assert.deepEqual(
      drained?.pending,
      [],
      `want every caller's proxy to have acknowledged: ${JSON.stringify(drained)}`,
    );
  });

  it('refuses a run whose ports do not fit the Service that exists, and writes nothing', async () => {
    const w = run([
      ...mesh.runArgs({
        namespace: NS,
        service: 'web',
        address: '127.0.98.7',
        token: await mesh.token(NS, 'web'),
      }),
      ...['--service', 'web', '--port', 'http:9090', '--', process.execPath, MESH_APP, 'serve'],
    ]);
    assert.equal(await w.exited, 1, `want exit 1\n${w.transcript()}`);
    assert.match(w.transcript(), /Service runs\/web has no port 9090 \(it has http:8080\)/);
    assert.doesNotMatch(w.output(), /ready/, 'want the app never started');
  });

  it('says what is wrong with its command line, exit 2', async () => {
    const noDash = await mesh.cli(['run', '--service', 'web', 'node', 'app.js']);
    assert.equal(noDash.code, 2);
    assert.match(noDash.stderr, /put -- before the command: alder run --service NAME \.\.\. -- node app\.js/);
    const badPort = await mesh.cli(['run', '--service', 'web', '--port', '8080', '--', 'node']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be NAME:PORT, such as http-web:9080, got "8080"/);
    const help = await mesh.cli(['run', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ALDER_UPSTREAM_<SERVICE>_<PORT>/);
  });
});
