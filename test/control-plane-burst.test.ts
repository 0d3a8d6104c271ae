// A burst of writes reaches many proxies as a few pushes: 100 streams that speak the real protocol
// (mTLS, the upgrade to alder-stream/1, hello, an ACK for every push) against a control plane on its
// mesh port, then 100 separate applies through the API, one after another. Debouncing folds them:
// each proxy gets a handful of pushes, and ends at the last write's revision.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { type ControlPlane, startControlPlane } from '../src/control/index.ts';
import { createLogger } from '../src/telemetry/index.ts';
import {
  encodeMessage,
  LineReader,
  MAX_PLANE_LINE_BYTES,
  type PlaneMessage,
  STREAM_PATH,
  STREAM_PROTOCOL,
  WIRE_VERSION,
} from '../src/wire/index.ts';
import { meshCa } from './certs.ts';
import { virtualServiceHeader } from './control-plane-kit.ts';
import { eventually, removeDir, tempDir } from './harness.ts';

const PROXIES = 100;
const WRITES = 100;

/** One simulated proxy: counts the pushes it gets and ACKs each. */
class Stream {
  pushes = 0;
  revision = 0;
  errors: string[] = [];
  #socket: TLSSocket | undefined;

  open(port: number, tls: { key: string; cert: string; ca: string }, name: string): Promise<void> {
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
            reject(new Error(`want the upgrade, got ${head.slice(0, 100)}`));
            return;
          }
          isUpgraded = true;
          rest = Buffer.from(head.slice(end + 4), 'latin1');
          socket.write(
            encodeMessage({
              hello: {
                workload: { namespace: 'shop', name },
                known: {},
                wireVersion: WIRE_VERSION,
                agent: 'alder-test/0',
                outboundProxy: null,
              },
            }),
          );
          resolve();
        }
        for (const line of lines.push(rest)) {
          if (line === '') continue;
          const m = JSON.parse(line) as PlaneMessage;
          if ('error' in m) {
            this.errors.push(m.error.message);
            continue;
          }
          if (!('push' in m)) continue;
          this.pushes++;
          this.revision = Math.max(this.revision, Number(m.push.revision));
          socket.write(encodeMessage({ ack: { workload: m.push.workload, nonce: m.push.nonce } }));
        }
      });
      socket.on('error', (err) => reject(err));
    });
  }

  close(): void {
    this.#socket?.destroy();
  }
}

function entries(): string {
  const docs: string[] = [
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{name: http, port: 8080}]}\n',
  ];
  for (let i = 0; i < PROXIES; i++) {
    const address = `127.0.150.${i + 1}`;
    docs.push(
      `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: web-${i}, namespace: shop}\nspec: {address: ${address}, labels: {app: web}, serviceAccount: web}\n`,
    );
  }
  return docs.join('---\n');
}

describe('a burst of applies with 100 proxies connected', () => {
  let dir: string;
  let cp: ControlPlane;
  let token: string;
  const streams: Stream[] = [];

  const apply = async (yaml: string) => {
    const res = await fetch(`${cp.url}/alder/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sources: [{ name: 'burst.yaml', text: yaml }] }),
    });
    const body = await res.text();
    assert.equal(res.status, 200, `want the apply stored; got ${res.status}: ${body.slice(0, 300)}`);
  };

  before(async () => {
    dir = tempDir('alder-burst-');
    const issue = meshCa(dir);
    const read = (c: { key: string; cert: string; ca: string }) => ({
      key: readFileSync(c.key, 'utf8'),
      cert: readFileSync(c.cert, 'utf8'),
      ca: readFileSync(c.ca, 'utf8'),
    });
    cp = await startControlPlane({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, 'cp'),
      maxBodyBytes: 1 << 20,
      log: createLogger({ level: 'error' }),
      mesh: {
        listen: { host: '127.0.0.1', port: 0 },
        tls: read(issue('spiffe://cluster.local/ns/alder-system/sa/control-plane,IP:127.0.0.1', 'cp')),
      },
    });
    token = readFileSync(join(dir, 'cp', 'admin-token'), 'utf8').trim();
    await apply(entries());
    const web = read(issue('spiffe://cluster.local/ns/shop/sa/web', 'web'));
    const port = Number(new URL(cp.meshUrl as string).port);
    for (let i = 0; i < PROXIES; i++) {
      const s = new Stream();
      streams.push(s);
      await s.open(port, web, `web-${i}`);
    }
    await eventually(
      'every proxy configured',
      async () => (streams.every((s) => s.pushes > 0) ? true : undefined),
      20_000,
    );
  });

  after(async () => {
    for (const s of streams) s.close();
    await cp?.stop();
    removeDir(dir);
  });

  it(`delivers ${WRITES} separate applies to each proxy as a few pushes, ending at the last revision`, async (t) => {
    const before = streams.map((s) => s.pushes);
    for (let i = 1; i <= WRITES; i++) await apply(virtualServiceHeader(`burst-${i}`));
    const last = cp.distributor?.revision ?? 0;
    const storeRevision = Number(await cp.store.currentRevision());
    await eventually(
      'every proxy at the last write',
      async () => (streams.every((s) => s.revision >= storeRevision) ? true : undefined),
      10_000,
    );
    const pushes = streams.map((s, i) => s.pushes - (before[i] as number));
    const most = Math.max(...pushes);
    t.diagnostic(`pushes per proxy for ${WRITES} applies: at most ${most}, at least ${Math.min(...pushes)}`);
    assert.deepEqual(
      streams.flatMap((s) => s.errors),
      [],
      'want no stream errors',
    );
    assert.ok(
      most <= 10,
      `want ${WRITES} applies to reach each proxy as a few pushes (at most 10), the busiest got ${most} (revision ${last})`,
    );
  });
});
