// The overload limit, against a real proxy started under a 300-descriptor limit (prlimit): 2,000
// connections held open against its mTLS port do not take it down; past its cap the rest are closed
// as they come (counted, and logged at most once a second), /ready answers meanwhile, and a request
// from a peer proxy still reaches the app, which needs a descriptor of its own.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getVia, type HeldSocket, holdOpen, inWaves, okServer } from './connection-kit.ts';
import type { RunningProxy } from './harness.ts';
import { type Mesh, TestBed } from './mesh-fixture.ts';
import { clientWebYaml } from './mesh-yaml.ts';
import { tcpSocketsOf } from './socket-census.ts';

const CLIENT = '127.0.73.1';
const WEB = '127.0.73.2';
const FD_LIMIT = 300;
const ATTEMPTS = 2_000;

/** One series of /stats, 0 when absent. */
async function stat(proxy: RunningProxy, series: string): Promise<number> {
  const text = await (await fetch(`${proxy.admin}/stats`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('proxy: overload under a low open-file limit', () => {
  const bed = new TestBed('overload');
  let mesh: Mesh;

  before(async () => {
    mesh = await bed.startMesh({
      yaml: clientWebYaml({ client: CLIENT, web: WEB, appPort: await bed.listen(okServer()) }),
      workloads: [
        // Silent connections are held for the whole test: only the cap lets go of them.
        {
          name: 'web',
          launch: {
            wrapper: ['prlimit', `--nofile=${FD_LIMIT}`],
            env: { ALDER_PROXY_HANDSHAKE_TIMEOUT: '60s' },
          },
        },
        { name: 'client', outboundProxy: `${CLIENT}:15001` },
      ],
      wantCleanExit: true,
    });
  });

  after(() => bed.close());

  it(`overload: ${ATTEMPTS} connections against a proxy limited to ${FD_LIMIT} descriptors leave it serving`, async (t) => {
    const web = mesh.proxy('web');
    const pid = web.process.pid as number;
    const warm = await getVia(`${CLIENT}:15001`, 'web.shop:8080', '/warm');
    assert.equal(warm.status, 200, `before the flood: want 200 through both proxies, got ${warm.status}`);

    const startedAt = performance.now();
    const flood: HeldSocket[] = await inWaves(ATTEMPTS, 200, () => holdOpen(WEB, 8080));
    try {
      const ready = await fetch(`${web.admin}/ready`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => String(r.status),
        (err: Error) => `no answer (${err.message}: ${String((err.cause as Error | undefined)?.message)})`,
      );
      assert.equal(ready, '200', `during the flood: want /ready 200 from the admin port, got ${ready}`);
      const through = await getVia(`${CLIENT}:15001`, 'web.shop:8080', '/during').then(
        (r) => `${r.status} ${r.body}`,
        (err: Error) => `no answer (${err.message})`,
      );
      assert.equal(through, '200 ok', `during the flood: want 200 through both proxies, got ${through}`);
      const limit = await stat(web, 'alder_proxy_downstream_connections_limit');
      assert.ok(
        limit > 0 && limit < FD_LIMIT / 2,
        `want a cap under half the descriptor limit, got ${limit}`,
      );
      const held = tcpSocketsOf(pid).filter((s) => s.local === `${WEB}:8080` && s.state === 'ESTABLISHED');
      // A refused connection is accepted and closed at once: one or two may be seen in between.
      assert.ok(
        held.length <= limit + 2,
        `want at most ${limit} flood connections held (+2 being refused), got ${held.length}`,
      );
      const refused = await stat(web, 'alder_proxy_overload_refused_total{listener="inbound|8080"}');
      t.diagnostic(`cap ${limit}; ${held.length} held; ${refused} refused of ${ATTEMPTS}`);
      assert.ok(
        refused >= ATTEMPTS - limit,
        `want at least ${ATTEMPTS - limit} refusals counted, got ${refused}`,
      );
    } finally {
      for (const f of flood) f.socket.destroy();
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const lines = web.logs.filter((l) =>
      String(l.msg).startsWith('connection refused: the proxy holds'),
    ).length;
    assert.ok(
      lines >= 1 && lines <= Math.ceil(seconds) + 1,
      `want the refusals logged at most once a second (${seconds.toFixed(1)} s), got ${lines} lines`,
    );
    assert.equal(web.process.exitCode, null, `want the proxy still running; stderr:\n${web.stderr()}`);
  });
});
