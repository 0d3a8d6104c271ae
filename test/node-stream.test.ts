// `alder node` holds one stream to the control plane for all its workloads, each speaking as itself:
// one TCP connection for three workloads, each SYNCED with its own identity; a workload leaving
// ends its session only; a control plane killed and restarted gets the one connection back. And a
// raw client on the stream shows that a connection cannot speak for a workload whose key it lacks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import {
  encodeMessage,
  type Hello,
  LineReader,
  MAX_PLANE_LINE_BYTES,
  PING_LINE,
  type PlaneMessage,
  type ProxyStatusRow,
  STREAM_PATH,
  STREAM_PROTOCOL,
  type StreamProof,
  signStreamProof,
  streamProofMaterial,
  WIRE_VERSION,
  type WorkloadRef,
} from '../src/wire/index.ts';
import { meshCa } from './certs.ts';
import { eventually, removeDir, tempDir, waitForLog } from './harness.ts';
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
import { tcpSocketsOf } from './socket-census.ts';

const NS = 'streams';
const WEB = '127.0.101.1';
const CLIENT = '127.0.101.2';
const API = '127.0.101.3';

interface Pem {
  cert: string;
  key: string;
  ca: string;
}

/** A stream as a proxy speaks it, by hand: ACKs every push, pings, and keeps what it got. */
class RawStream {
  readonly messages: PlaneMessage[] = [];
  #socket: TLSSocket | undefined;
  #pinger: NodeJS.Timeout | undefined;

  open(port: number, tls: Pem): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ...tls, servername: '' });
      this.#socket = socket;
      const lines = new LineReader(MAX_PLANE_LINE_BYTES);
      let head = '';
      let isUpgraded = false;
      socket.on('secureConnect', () =>
        socket.write(
          `GET ${STREAM_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        let rest = chunk;
        if (!isUpgraded) {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end === -1) return;
          if (!head.startsWith('HTTP/1.1 101 ')) {
            reject(new Error(`want the upgrade, got ${head.slice(0, 200)}`));
            return;
          }
          isUpgraded = true;
          rest = Buffer.from(head.slice(end + 4), 'latin1');
          this.#pinger = setInterval(() => socket.write(PING_LINE), 1000);
          resolve();
        }
        for (const line of lines.push(rest)) {
          if (line === '') continue;
          const m = JSON.parse(line) as PlaneMessage;
          this.messages.push(m);
          if ('push' in m)
            socket.write(encodeMessage({ ack: { workload: m.push.workload, nonce: m.push.nonce } }));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => clearInterval(this.#pinger));
    });
  }

  /** Writes a line as it is, and resolves when the control plane closes the connection (or after 5 s). */
  async sendAndWaitForClose(line: string): Promise<boolean> {
    const socket = this.#socket as TLSSocket;
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.write(line);
    return closed;
  }

  get isOpen(): boolean {
    return this.#socket !== undefined && !this.#socket.destroyed;
  }

  /** This connection's keying material, which a proof on it signs. */
  material(): Buffer {
    return streamProofMaterial(this.#socket as TLSSocket);
  }

  hello(workload: WorkloadRef, proof?: StreamProof): void {
    const hello: Hello = {
      workload,
      known: {},
      wireVersion: WIRE_VERSION,
      agent: 'alder-test/0',
      outboundProxy: null,
      ...(proof === undefined ? {} : { proof }),
    };
    this.#socket?.write(encodeMessage({ hello }));
  }

  pushesFor(w: WorkloadRef): number {
    return this.messages.filter((m) => 'push' in m && m.push.workload.name === w.name).length;
  }

  errorsFor(w: WorkloadRef): { code: string; message: string }[] {
    return this.messages.flatMap((m) => ('error' in m && m.error.workload?.name === w.name ? [m.error] : []));
  }

  close(): void {
    clearInterval(this.#pinger);
    this.#socket?.destroy();
  }
}

describe('alder node: one stream to the control plane for every workload', () => {
  const dir = tempDir('node-stream');
  const socket = join(dir, 'node.sock');
  let mesh: RunMesh;
  let node: RunningNode | undefined;
  const running: RunningWorkload[] = [];
  const run = (args: string[]) => {
    const w = startRun(args, { ALDER_NODE_SOCKET: socket });
    running.push(w);
    return w;
  };
  const serve = async (service: string, address: string) =>
    run([
      ...mesh.runArgs({ namespace: NS, service, address, token: await mesh.token(NS, service) }),
      ...['--service', service, '--port', 'http:8080', '--', process.execPath, MESH_APP, 'serve'],
    ]);
  let client: RunningWorkload;
  let api: RunningWorkload;
  /** The node's stream, as proxy-status names it. */
  let nodeConnection: string | undefined;
  /** The node's workloads by service: `namespace/name` of each entry. */
  const names: Record<string, WorkloadRef> = {};

  /** The node's TCP connections to the control plane's mesh port, established. */
  const streamsToControlPlane = () =>
    tcpSocketsOf(node?.process.pid as number).filter(
      (s) => s.state === 'ESTABLISHED' && s.remote === mesh.meshAddress,
    );
  const proxyStatus = async () => {
    const r = await mesh.cli(['proxy-status', '-o', 'json']);
    assert.equal(r.code, 0, `want proxy-status; stderr: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: ProxyStatusRow[] }).items;
  };
  const isSynced = (row: ProxyStatusRow) => Object.values(row.types).every((t) => t.state === 'SYNCED');
  const viaClient = (host: string, path = '/') =>
    curl(['-x', httpProxyOf(client), `http://${host}.${NS}:8080${path}`]);
  const stateOf = (service: string, address: string): Pem => {
    const d = join(dir, 'node-state', `${NS}-${service}-${address}`);
    return {
      cert: readFileSync(join(d, 'cert-chain.pem'), 'utf8'),
      key: readFileSync(join(d, 'key.pem'), 'utf8'),
      ca: readFileSync(join(d, 'root-cert.pem'), 'utf8'),
    };
  };

  before(async () => {
    mesh = await startRunMesh(dir);
    node = await startNode(mesh, dir, socket);
    const web = await serve('web', WEB);
    api = await serve('api', API);
    client = run(await mesh.appArgs({ namespace: NS, service: 'client', address: CLIENT, mode: ['wait'] }));
    for (const w of [web, api, client]) await waitForOutput(w, 'ready');
    for (const host of ['web', 'api']) {
      await eventually(`${host} answering through the client`, async (seen) => {
        const r = await viaClient(host);
        seen(`${r.status} ${r.body}`);
        return r.status === 200 ? true : undefined;
      });
    }
    const list = (await (await fetch(`${node.admin}/workloads`)).json()) as {
      workload: string;
      service: string;
    }[];
    for (const w of list) {
      const [namespace, name] = w.workload.split('/') as [string, string];
      names[w.service.split('/')[1] as string] = { namespace, name };
    }
  });
  after(async () => {
    await Promise.all(running.map(ensureStopped));
    await node?.stop();
    await mesh?.cp.stop();
    removeDir(dir);
  });

  it('holds one connection to the control plane for three workloads, each SYNCED as itself', async () => {
    await eventually('one connection from the node to the mesh port', async (seen) => {
      const streams = streamsToControlPlane();
      seen(streams);
      return streams.length === 1 ? true : undefined;
    });
    const rows = await eventually('three workloads SYNCED', async (seen) => {
      const items = await proxyStatus();
      seen(items.map((r) => ({ workload: r.workload, types: r.types })));
      return items.length === 3 && items.every(isSynced) ? items : undefined;
    });
    assert.deepEqual(
      rows.map((r) => r.identity).sort(),
      ['api', 'client', 'web'].map((sa) => `spiffe://cluster.local/ns/${NS}/sa/${sa}`),
      `want each workload's session to speak as its own identity: ${JSON.stringify(rows)}`,
    );
    const connections = new Set(rows.map((r) => r.connection));
    assert.equal(connections.size, 1, `want one connection for the three: ${[...connections].join(', ')}`);
    nodeConnection = rows[0]?.connection;
    for (const [host, sa] of [
      ['web', 'web'],
      ['api', 'api'],
    ] as const) {
      const r = await viaClient(host, '/from-client');
      assert.equal(r.status, 200, `want 200 from ${host} through the client, got ${r.status} ${r.body}`);
      assert.match(
        r.body,
        new RegExp(
          `By=spiffe://cluster.local/ns/${NS}/sa/${sa};[^"]*URI=spiffe://cluster.local/ns/${NS}/sa/client"`,
        ),
        `want ${host} to see the client's identity, itself as ${sa}: ${r.body}`,
      );
    }
    assert.equal(streamsToControlPlane().length, 1, 'want still one connection after the traffic');
  });

  it('refuses a workload on a connection that cannot prove it, and the connection’s own workload keeps its pushes', async () => {
    const port = Number(new URL(mesh.cp.meshUrl as string).port);
    const web = names.web as WorkloadRef;
    const other = names.client as WorkloadRef;
    const asWeb = stateOf('web', WEB);
    const asClient = stateOf('client', CLIENT);
    const raw = new RawStream();
    const elsewhere = new RawStream();
    try {
      await raw.open(port, asWeb);
      await elsewhere.open(port, asWeb);
      raw.hello(web);
      await eventually('a push for web on the raw stream', async () =>
        raw.pushesFor(web) > 0 ? true : undefined,
      );
      const foreignCa = meshCa(dir, 'other-ca')(`spiffe://cluster.local/ns/${NS}/sa/client`, 'foreign');
      const foreign = {
        cert: readFileSync(foreignCa.cert, 'utf8'),
        key: readFileSync(foreignCa.key, 'utf8'),
      };
      const cases: { name: string; proof?: StreamProof; want: RegExp }[] = [
        {
          name: 'no proof, on a connection authenticated as web',
          want: new RegExp(`certificate names spiffe://cluster.local/ns/${NS}/sa/web, but WorkloadEntry`),
        },
        {
          name: 'a proof made for another connection (replayed)',
          proof: {
            certificateChain: asClient.cert,
            signature: signStreamProof(asClient.key, elsewhere.material()),
          },
          want: /proof refused: the signature is not spiffe:\/\/cluster\.local\/ns\/streams\/sa\/client's/,
        },
        {
          name: 'a proof with a certificate from another CA',
          proof: { certificateChain: foreign.cert, signature: signStreamProof(foreign.key, raw.material()) },
          want: /proof refused: certificate refused: the leaf was not issued by any trusted root/,
        },
      ];
      for (const [i, c] of cases.entries()) {
        raw.hello(other, c.proof);
        const errors = await eventually(`${c.name}: an error naming ${other.name}`, async (seen) => {
          const got = raw.errorsFor(other);
          seen(raw.messages.slice(-3));
          return got.length > i ? got : undefined;
        });
        const error = errors[i] as { code: string; message: string };
        assert.equal(error.code, 'ALDER_FORBIDDEN', `${c.name}: want ALDER_FORBIDDEN, got ${error.code}`);
        assert.match(error.message, c.want, `${c.name}: want the reason named`);
        assert.ok(raw.isOpen, `${c.name}: want the connection kept for web`);
      }
      assert.equal(raw.pushesFor(other), 0, `want nothing pushed for ${other.name} on the raw stream`);
      const before = raw.pushesFor(web);
      const applied = await mesh.cli(
        ['apply', '-f', '-'],
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: ${NS}}
spec:
  hosts: [web.${NS}.svc.cluster.local]
  http:
  - headers: {response: {set: {x-route: raw}}}
    route: [{destination: {host: web.${NS}.svc.cluster.local}}]
`,
      );
      assert.equal(applied.code, 0, `want the VirtualService applied; stderr: ${applied.stderr}`);
      await eventually('the change pushed to web on the raw stream', async (seen) => {
        seen(raw.messages.slice(-2));
        return raw.pushesFor(web) > before ? true : undefined;
      });
      // The same workload proved with its own key on this connection is taken.
      raw.hello(other, {
        certificateChain: asClient.cert,
        signature: signStreamProof(asClient.key, raw.material()),
      });
      await eventually(`a push for ${other.name} once proved`, async (seen) => {
        seen(raw.messages.slice(-2));
        return raw.pushesFor(other) > 0 ? true : undefined;
      });
    } finally {
      raw.close();
      elsewhere.close();
    }
    await eventually('the node’s three sessions alone, untouched and SYNCED', async (seen) => {
      const items = await proxyStatus();
      seen(items.map((r) => `${r.id} ${r.connectedAt}`));
      return items.length === 3 && items.every((r) => r.connection === nodeConnection && isSynced(r))
        ? true
        : undefined;
    });
  });

  it('closes a stream that sends JSON that is not a message object, and serves the others on', async () => {
    const port = Number(new URL(mesh.cp.meshUrl as string).port);
    for (const line of ['null', '5', '{"ack":null}', '{"hello":null}', '{"drain":{"workload":"x"}}']) {
      const raw = new RawStream();
      try {
        await raw.open(port, stateOf('web', WEB));
        assert.equal(await raw.sendAndWaitForClose(`${line}\n`), true, `${line}: want the stream closed`);
      } finally {
        raw.close();
      }
    }
    assert.equal(mesh.cp.process.exitCode, null, 'want the control plane running');
    const items = await proxyStatus();
    assert.ok(
      items.every((r) => r.connection === nodeConnection),
      `want only the node's sessions: ${JSON.stringify(items.map((r) => r.id))}`,
    );
  });

  it('ends only the session of a workload that leaves: unregistered at once, the others untouched', async () => {
    const stream = streamsToControlPlane();
    assert.equal(stream.length, 1, `want one connection before: ${JSON.stringify(stream)}`);
    const before = await eventually('the node’s sessions alone', async (seen) => {
      const items = await proxyStatus();
      seen(items.map((r) => r.id));
      return items.length === 3 && items.every(isSynced) ? items : undefined;
    });
    const apiName = `${names.api?.namespace}/${names.api?.name}`;
    const load = steadyLoad(httpProxyOf(client), `http://web.${NS}:8080/steady`);
    let results: string[] = [];
    try {
      api.process.kill('SIGTERM');
      const code = await Promise.race([
        api.exited,
        new Promise((r) => setTimeout(() => r('still running'), 60_000)),
      ]);
      assert.equal(code, 0, `want api's run to exit 0\n${api.transcript()}`);
      // Deleted because its proxy said goodbye, not when the 10 s grace of a lost stream ends.
      await waitForLog(
        mesh.cp,
        (l) =>
          l.msg === 'workload unregistered' && l.workload === apiName && l.reason === 'its proxy stopped',
        20_000,
      );
    } finally {
      results = await load.stop();
    }
    assert.ok(results.length >= 5, `want steady traffic meanwhile, got ${results.length} requests`);
    assert.deepEqual(
      results.filter((r) => r !== 'ok'),
      [],
      `want none of ${results.length} requests failed`,
    );
    const goodbye = mesh.cp.logs.find(
      (l) => l.msg === 'proxy disconnected' && l.workload === apiName && l.reason === 'said goodbye',
    );
    assert.ok(goodbye !== undefined, `want api's session ended by its goodbye, not by a closed stream`);
    const after = await proxyStatus();
    assert.deepEqual(
      after.map((r) => `${r.id} ${r.connectedAt}`).sort(),
      before
        .filter((r) => r.workload !== apiName)
        .map((r) => `${r.id} ${r.connectedAt}`)
        .sort(),
      'want the other sessions as they were',
    );
    assert.deepEqual(streamsToControlPlane(), stream, 'want the same one connection to the control plane');
    const r = await viaClient('web');
    assert.equal(r.status, 200, `want web still answering, got ${r.status}`);
  });

  it('reconnects once with every workload when the control plane is killed and restarted', async () => {
    await mesh.restartControlPlane(true);
    const rows = await eventually(
      'web and client SYNCED on the restarted control plane',
      async (seen) => {
        const items = await proxyStatus();
        seen(items.map((r) => ({ workload: r.workload, connection: r.connection, types: r.types })));
        return items.length === 2 && items.every(isSynced) ? items : undefined;
      },
      30_000,
    );
    assert.equal(new Set(rows.map((r) => r.connection)).size, 1, 'want both on one connection');
    const opened = new Set(
      mesh.cp.logs.filter((l) => l.msg === 'proxy connected').map((l) => String(l.proxy)),
    );
    assert.equal(opened.size, 1, `want the node to have connected once: ${[...opened].join(', ')}`);
    assert.equal(streamsToControlPlane().length, 1, 'want one connection to the control plane');
    await eventually('web answering through the client', async (seen) => {
      const r = await viaClient('web');
      seen(`${r.status} ${r.body}`);
      return r.status === 200 ? true : undefined;
    });
  });
});
