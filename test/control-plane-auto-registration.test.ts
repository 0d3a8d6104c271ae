// Workloads that join as members of a WorkloadGroup, as a user runs them: `alder proxy
// --workload-group shop/web-vm --token …` against a real control plane. The control plane makes the
// member's WorkloadEntry from the group, the member's proxy runs the group's probe against its app,
// and the entry is a lease: it leaves callers' rotation when the app fails its probe or the proxy
// dies, goes at once on a clean stop and after the grace period on a crash, and comes back when the
// proxy returns.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type JoinedMesh, startJoinedMesh } from './control-plane-kit.ts';
import { eventually, type RunningProxy, removeDir, startProxy, tempDir } from './harness.ts';

const CLIENT = '127.0.94.1';
const WEB = '127.0.94.2';
const MEMBER = '127.0.94.5';
const MEMBER_ENTRY = `web-vm-${MEMBER}`;
const GRACE_MS = 4000;

/** An app health endpoint whose answer the test sets. */
async function healthApp(): Promise<{ server: Server; port: number; status: { code: number } }> {
  const status = { code: 200 };
  const server = createServer((_req, res) => {
    res.writeHead(status.code).end(status.code === 200 ? 'ok' : 'not ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, status };
}

/** The fields of a WorkloadEntry the test reads. */
interface Entry {
  metadata: {
    labels?: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences?: { kind: string }[];
  };
  spec: { address: string; serviceAccount: string };
}

function groupYaml(healthPort: number): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: web-vm, namespace: shop}
spec:
  metadata:
    labels: {app: web}
    annotations: {team: storefront}
  template:
    serviceAccount: web
  probe:
    periodSeconds: 1
    failureThreshold: 1
    httpGet: {path: /healthz, port: ${healthPort}}
`;
}

describe('workloads that join as members of a WorkloadGroup', () => {
  let dir: string;
  let mesh: JoinedMesh;
  let health: Awaited<ReturnType<typeof healthApp>>;
  let member: RunningProxy | undefined;
  let webToken: string;

  const memberArgs = (token?: string) => [
    ...['--control-plane', `127.0.0.1:${mesh.meshPort}`, '--workload-group', 'shop/web-vm'],
    ...['--address', MEMBER, '--label', 'version=vm', '--outbound-proxy', 'none'],
    ...['--state-dir', `${dir}/state-member`],
    ...(token === undefined ? [] : ['--token', token]),
  ];
  /** How many of the client proxy's endpoints for web are the member's. */
  const memberEndpoints = async () => {
    const client = mesh.proxies[1] as RunningProxy;
    const res = await fetch(`${client.admin}/endpoints`);
    const body = (await res.json()) as { endpoints: { workload: string; cluster: string }[] };
    return body.endpoints.filter((e) => e.workload === MEMBER_ENTRY && e.cluster.includes('web.shop')).length;
  };
  const entry = async () => {
    const r = await mesh.cli(['get', 'workloadentry', MEMBER_ENTRY, '-n', 'shop', '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Entry) : undefined;
  };
  /** Waits for `check`; on a timeout the error shows what proxy-status said. */
  const waitFor = (want: string, check: () => Promise<boolean>, ms: number) =>
    eventually(
      want,
      async (seen) => {
        if (await check()) return true;
        seen((await mesh.cli(['proxy-status', '-o', 'json'])).stdout);
        return undefined;
      },
      ms,
    );

  before(async () => {
    dir = tempDir('alder-autoreg-');
    health = await healthApp();
    mesh = await startJoinedMesh({
      dir,
      client: CLIENT,
      web: WEB,
      cpArgs: ['--auto-registration-grace', `${GRACE_MS / 1000}s`],
      yaml: groupYaml(health.port),
    });
    webToken = await mesh.createToken('web', ['--uses', '5']);
  });

  after(async () => {
    member?.process.kill('SIGKILL');
    await mesh?.stop();
    health?.server.close();
    removeDir(dir);
  });

  it('registers the member with the group’s template, labels and annotations, and puts it in rotation once its probe passes', async () => {
    member = await startProxy(memberArgs(webToken));
    const e = await entry();
    assert.ok(e !== undefined, `want WorkloadEntry shop/${MEMBER_ENTRY} made for the member`);
    assert.equal(e.spec.address, MEMBER, 'want the entry at the address the member joined with');
    assert.equal(e.spec.serviceAccount, 'web', "want the group's service account");
    assert.deepEqual(
      e.metadata.labels,
      { app: 'web', version: 'vm' },
      "want the group's labels and the member's own",
    );
    assert.equal(e.metadata.annotations['istio.io/autoRegistrationGroup'], 'web-vm');
    assert.equal(e.metadata.annotations.team, 'storefront', "want the group's annotations");
    assert.equal(e.metadata.ownerReferences?.[0]?.kind, 'WorkloadGroup', 'want the group as owner');
    await waitFor(
      "the member in the client's endpoints for web",
      async () => (await memberEndpoints()) > 0,
      5000,
    );
    const status = await mesh.cli(['proxy-status', '-o', 'json']);
    const rows = (JSON.parse(status.stdout) as { items: { workload: string; identity: string }[] }).items;
    const row = rows.find((r) => r.workload === `shop/${MEMBER_ENTRY}`);
    assert.equal(
      row?.identity,
      'spiffe://cluster.local/ns/shop/sa/web',
      `want the member in proxy-status; got ${status.stdout}`,
    );
  });

  it('refuses to let a token for another service account join the group', async () => {
    const clientToken = await mesh.createToken('client');
    const r = await mesh.cli([
      'proxy',
      ...['--control-plane', `127.0.0.1:${mesh.meshPort}`, '--workload-group', 'shop/web-vm'],
      ...['--address', '127.0.94.9', '--token', clientToken, '--state-dir', `${dir}/state-intruder`],
    ]);
    assert.notEqual(r.code, 0, 'want the join refused');
    assert.match(r.stderr, /web/, `want the refusal to name the identity the group needs; got ${r.stderr}`);
    assert.equal(
      (await mesh.cli(['get', 'workloadentry', 'web-vm-127.0.94.9', '-n', 'shop'])).code,
      1,
      'want no entry registered for the refused join',
    );
  });

  it('keeps the token’s use when a join is refused for its labels', async () => {
    const once = await mesh.createToken('web', ['--uses', '1']);
    const id = once.split('.')[1] as string;
    const r = await mesh.cli([
      'proxy',
      ...['--control-plane', `127.0.0.1:${mesh.meshPort}`, '--workload-group', 'shop/web-vm'],
      ...[
        '--address',
        '127.0.94.8',
        '--label',
        'bad key=x',
        '--token',
        once,
        '--state-dir',
        `${dir}/state-bad`,
      ],
    ]);
    assert.notEqual(r.code, 0, 'want the join refused');
    assert.match(r.stderr, /bad key/, `want the refusal to name the label; got ${r.stderr}`);
    const listed = JSON.parse((await mesh.cli(['token', 'ls', '-o', 'json'])).stdout) as {
      items: { id: string; usesLeft: number | null }[];
    };
    assert.equal(
      listed.items.find((t) => t.id === id)?.usesLeft,
      1,
      'want the one use still left after a refused join',
    );
  });

  it('takes the member out of rotation within 5 s when its app fails the probe, and back when it passes', async () => {
    const failedAt = performance.now();
    health.status.code = 503;
    await waitFor(
      'the unhealthy member out of the endpoints',
      async () => (await memberEndpoints()) === 0,
      5000,
    );
    const took = performance.now() - failedAt;
    assert.ok(took < 5000, `want the member out within 5 s, took ${took.toFixed(0)} ms`);
    const status = (
      JSON.parse((await mesh.cli(['proxy-status', '-o', 'json'])).stdout) as {
        items: { workload: string; health?: { healthy: boolean; reason: string } }[];
      }
    ).items;
    const row = status.find((r) => r.workload === `shop/${MEMBER_ENTRY}`);
    assert.equal(row?.health?.healthy, false, 'want proxy-status to show the member unhealthy');
    assert.match(row?.health?.reason ?? '', /503/, 'want the probe’s answer as the reason');
    health.status.code = 200;
    await waitFor(
      'the healthy member back in the endpoints',
      async () => (await memberEndpoints()) > 0,
      5000,
    );
  });

  it('removes the entry at once when the member’s proxy stops cleanly, and makes it again when the proxy returns', async () => {
    const stoppedAt = performance.now();
    await member?.stop();
    member = undefined;
    await waitFor(
      'the entry removed after a clean stop',
      async () => (await entry()) === undefined,
      GRACE_MS,
    );
    assert.ok(performance.now() - stoppedAt < GRACE_MS, 'want the entry gone before the grace period ends');
    // No token now: the proxy uses the certificate saved in its state folder and registers again.
    member = await startProxy(memberArgs());
    await waitFor('the entry made again', async () => (await entry()) !== undefined, 5000);
    await waitFor('the returned member in rotation', async () => (await memberEndpoints()) > 0, 5000);
    // It resumed from the config on its disk: types nothing was pushed for are in sync all the same.
    await waitFor(
      'every resource type of the returned member SYNCED in proxy-status',
      async () => {
        const { items } = JSON.parse((await mesh.cli(['proxy-status', '-o', 'json'])).stdout) as {
          items: { workload: string; types: Record<string, { state: string }> }[];
        };
        const row = items.find((r) => r.workload === `shop/${MEMBER_ENTRY}`);
        return row !== undefined && Object.values(row.types).every((t) => t.state === 'SYNCED');
      },
      5000,
    );
  });

  it('takes a killed member out of rotation within 5 s and expires its entry after the grace period', async () => {
    const killedAt = performance.now();
    member?.process.kill('SIGKILL');
    member = undefined;
    await waitFor(
      'the killed member out of the endpoints',
      async () => (await memberEndpoints()) === 0,
      5000,
    );
    const took = performance.now() - killedAt;
    assert.ok(took < 5000, `want the killed member out within 5 s, took ${took.toFixed(0)} ms`);
    // Checked only while well inside the grace period (a busy machine can take long to get here).
    const present = (await entry()) !== undefined;
    if (performance.now() - killedAt < GRACE_MS - 1000) {
      assert.ok(present, 'want the entry kept during the grace period');
    }
    await waitFor('the entry expired', async () => (await entry()) === undefined, GRACE_MS + 5000);
    assert.ok(performance.now() - killedAt >= GRACE_MS - 100, 'want the entry kept for the grace period');
  });

  it('expires, after a control-plane restart, the entry of a member that never came back', async () => {
    member = await startProxy(memberArgs());
    await waitFor('the member registered', async () => (await entry()) !== undefined, 5000);
    member.process.kill('SIGKILL');
    member = undefined;
    // Killed well inside the grace period: only the control plane started next can expire the entry.
    await mesh.restartControlPlane(true);
    await waitFor('the orphaned entry expired', async () => (await entry()) === undefined, GRACE_MS + 5000);
  });
});
