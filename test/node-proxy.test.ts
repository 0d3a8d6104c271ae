// `alder node`: one proxy process serving every workload `alder run` starts on the host, each with
// its own identity, listeners and HTTP_PROXY secret. Real processes: a control plane, the node
// proxy, workloads under `alder run`, curl as the caller.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, removeDir, tempDir } from './harness.ts';
import { curl } from './mesh-fixture.ts';
import {
  ensureStopped,
  httpProxyOf,
  MESH_APP,
  type RunMesh,
  type RunningNode,
  type RunningWorkload,
  startNode,
  startRun,
  startRunMesh,
  steadyLoad,
  waitForOutput,
} from './run-kit.ts';

const NS = 'nodes';
const WEB = '127.0.99.1';
const CLIENT = '127.0.99.2';

describe('alder node: one proxy for the workloads of a host', () => {
  const dir = tempDir('node');
  const socket = join(dir, 'node.sock');
  let mesh: RunMesh;
  let node: RunningNode | undefined;
  let nodeAdmin = '';
  let nodeLog: string[] = [];
  const running: RunningWorkload[] = [];
  const run = (args: string[], env: Record<string, string> = {}) => {
    const w = startRun(args, { ALDER_NODE_SOCKET: socket, ...env });
    running.push(w);
    return w;
  };
  let web: RunningWorkload;
  let client: RunningWorkload;

  before(async () => {
    mesh = await startRunMesh(dir);
    node = await startNode(mesh, dir, socket);
    nodeAdmin = node.admin;
    nodeLog = node.log;
    web = run([
      ...mesh.runArgs({ namespace: NS, service: 'web', address: WEB, token: await mesh.token(NS, 'web') }),
      ...['--service', 'web', '--port', 'http:8080', '--', process.execPath, MESH_APP, 'serve'],
    ]);
    client = run(await mesh.appArgs({ namespace: NS, service: 'client', address: CLIENT, mode: ['wait'] }));
    await waitForOutput(web, 'ready');
    await waitForOutput(client, 'ready');
    // In rotation once its readiness probe (a TCP connect to the app) passed and callers have it.
    await eventually('web answering through the client', async (seen) => {
      const r = await curl(['-x', httpProxyOf(client), `http://web.${NS}:8080/`]);
      seen(
        `${r.status} ${r.body} ${nodeLog
          .filter((l) => !/downstream connections/.test(l))
          .slice(-20)
          .join('\n')}`,
      );
      return r.status === 200 ? true : undefined;
    });
  });
  after(async () => {
    await Promise.all(running.map(ensureStopped));
    await node?.stop();
    await mesh?.cp.stop();
    removeDir(dir);
  });

  it("runs with V8's young generation capped, in the process it was started as (its heap stays near what is live)", () => {
    const pid = node?.process.pid;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      cmdline.includes('--max-semi-space-size=2'),
      `want alder node (pid ${pid}) started again in place with --max-semi-space-size=2, got ${cmdline.join(' ')}`,
    );
    assert.equal(node?.process.exitCode, null, 'want the node proxy the test started still running');
  });

  it('serves each workload from the one node process, with its own identity seen at the callee', async () => {
    const started = web.logs.find((l) => l.msg === 'app started');
    assert.equal(started?.proxy, 'node', `want web handed to the node proxy\n${web.transcript()}`);
    const batch = run([
      ...mesh.runArgs({
        namespace: NS,
        service: 'batch',
        address: '127.0.99.3',
        token: await mesh.token(NS, 'batch'),
      }),
      ...['--service', 'batch', '--', process.execPath, MESH_APP, 'call', `http://web.${NS}:8080/from-batch`],
    ]);
    assert.equal(await batch.exited, 0, `want the batch job to exit 0\n${batch.transcript()}`);
    assert.match(
      batch.output(),
      new RegExp(`URI=spiffe://cluster.local/ns/${NS}/sa/batch"`),
      `want web to see the batch job's identity\n${batch.output()}`,
    );
    const r = await curl(['-x', httpProxyOf(client), `http://web.${NS}:8080/from-client`]);
    assert.equal(r.status, 200, `want 200 through the client's HTTP_PROXY, got ${r.status} ${r.body}`);
    assert.match(r.body, new RegExp(`URI=spiffe://cluster.local/ns/${NS}/sa/client"`), r.body);
    const list = (await (await fetch(`${nodeAdmin}/workloads`)).json()) as {
      workload: string;
      identity: string;
    }[];
    const identities = list.map((w) => w.identity).sort();
    assert.deepEqual(
      identities,
      [`spiffe://cluster.local/ns/${NS}/sa/client`, `spiffe://cluster.local/ns/${NS}/sa/web`],
      `want the node to hold web and client (the batch job left): ${JSON.stringify(list)}`,
    );
    const dump = await fetch(`${nodeAdmin}/workloads/${NS}/${list[0]?.workload.split('/')[1]}/config_dump`);
    assert.equal(dump.status, 200, 'want each workload’s own admin API under /workloads/NS/NAME/');
  });

  it('lets no workload send as another or obtain another’s identity', async () => {
    const stolen = new URL(httpProxyOf(client));
    stolen.password = new URL(httpProxyOf(web)).password;
    const r = await curl(['-x', stolen.toString(), `http://web.${NS}:8080/`]);
    assert.equal(r.status, 407, `want web's secret refused at the client's proxy, got ${r.status}`);
    const impostor = run([
      ...mesh.runArgs({
        namespace: NS,
        service: 'web',
        address: '127.0.99.4',
        token: await mesh.token(NS, 'client'),
      }),
      ...[
        '--service',
        'web',
        '--sa',
        'web',
        '--port',
        'http:8080',
        '--',
        process.execPath,
        MESH_APP,
        'serve',
      ],
    ]);
    assert.equal(
      await impostor.exited,
      1,
      `want a token for client refused for web\n${impostor.transcript()}`,
    );
    assert.match(impostor.transcript(), /grants nodes\/client, not nodes\/web/);
    const taken = run([
      ...mesh.runArgs({ namespace: NS, service: 'web', address: WEB, token: await mesh.token(NS, 'web') }),
      ...['--service', 'web', '--port', 'http:8080', '--', process.execPath, MESH_APP, 'serve'],
    ]);
    assert.equal(
      await taken.exited,
      1,
      `want a second workload on web's address refused\n${taken.transcript()}`,
    );
    assert.match(taken.transcript(), /address 127\.0\.99\.1 is taken on this node by nodes\/web/);
  });

  it('fails none of the other workloads’ requests while workloads join and leave', async () => {
    const load = steadyLoad(httpProxyOf(client), `http://web.${NS}:8080/steady`);
    const list = async () => ((await (await fetch(`${nodeAdmin}/workloads`)).json()) as unknown[]).length;
    let results: string[] = [];
    // The load stops whatever fails meanwhile: a loop left running would keep this file alive.
    try {
      const token = await mesh.token(NS, 'churn');
      for (let i = 0; i < 3; i++) {
        const churn = run(
          [
            ...mesh.runArgs({ namespace: NS, service: 'churn', address: `127.0.99.${10 + i}`, token }),
            ...['--service', 'churn', '--port', 'http:8081', '--', process.execPath, MESH_APP, 'serve'],
          ],
          { PORT: '8081' },
        );
        await waitForOutput(churn, 'ready');
        if (i === 2) {
          // A run that dies: its workload must still leave the node. Its app, orphaned, is ended here.
          churn.process.kill('SIGKILL');
          await churn.exited;
          process.kill(Number(churn.logs.find((l) => l.msg === 'app started')?.pid), 'SIGKILL');
        } else {
          churn.process.kill('SIGTERM');
          await churn.exited;
        }
      }
      for (let i = 0; i < 100 && (await list()) !== 2; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      results = await load.stop();
    }
    assert.ok(results.length >= 10, `want steady traffic meanwhile, got ${results.length} requests`);
    assert.deepEqual(
      results.filter((r) => r !== 'ok'),
      [],
      `want none of ${results.length} requests failed`,
    );
    assert.equal(await list(), 2, 'want the killed run’s workload gone from the node');
  });
});
