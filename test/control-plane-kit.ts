// A mesh driven by a real control plane, as a new user starts one: `alder control-plane`, `alder
// apply`, `alder token create`, then `alder proxy --control-plane … --token …` for a `client` (with
// a forward proxy) and a `web` workload in namespace `shop`. Plus a steady load through the client
// that counts every request that is not a 200.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { okApp } from './connection-kit.ts';
import {
  alder,
  type CliResult,
  type RunningControlPlane,
  type RunningProxy,
  startControlPlane,
  startProxy,
} from './harness.ts';
import { curl } from './mesh-fixture.ts';
import { clientWebYaml } from './mesh-yaml.ts';

export interface JoinedMesh {
  cp: RunningControlPlane;
  meshPort: string;
  proxies: RunningProxy[];
  /** `alder ARGS` against this control plane, with its admin credentials. */
  cli(args: string[], stdin?: string): Promise<CliResult>;
  createToken(serviceAccount: string, extra?: string[]): Promise<string>;
  proxyArgs(name: string, token: string, outbound?: string): string[];
  /** A request through the client's forward proxy, with headers. */
  viaClient(): Promise<{ status: number; headers: string; body: string }>;
  /** SIGKILLs the control plane and starts it again on the same ports and data. */
  restartControlPlane(kill: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startJoinedMesh(o: {
  dir: string;
  client: string;
  web: string;
  cpArgs?: string[];
  /** More YAML applied with the mesh. */
  yaml?: string;
}): Promise<JoinedMesh> {
  let cp = await startControlPlane({
    dataDir: join(o.dir, 'cp'),
    ...(o.cpArgs === undefined ? {} : { args: o.cpArgs }),
  });
  const meshPort = new URL(cp.meshUrl as string).port;
  const app = await okApp();
  const proxies: RunningProxy[] = [];
  const cli = (args: string[], stdin?: string) =>
    alder(args, {
      server: cp.url,
      env: { ALDER_DATA_DIR: cp.dataDir },
      ...(stdin === undefined ? {} : { stdin }),
    });
  const createToken = async (sa: string, extra: string[] = []) => {
    const r = await cli([
      'token',
      'create',
      '--namespace',
      'shop',
      '--service-account',
      sa,
      '-o',
      'json',
      ...extra,
    ]);
    assert.equal(r.code, 0, `want a token for ${sa}; stderr: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { token: string }).token;
  };
  const proxyArgs = (name: string, token: string, outbound = 'none') => [
    ...['--control-plane', `127.0.0.1:${meshPort}`, '--workload', `shop/${name}`, '--token', token],
    ...['--state-dir', join(o.dir, `state-${name}`), '--outbound-proxy', outbound],
  ];
  const yaml = [
    clientWebYaml({ client: o.client, web: o.web, appPort: app.port }),
    ...(o.yaml === undefined ? [] : [o.yaml]),
  ];
  try {
    const applied = await cli(['apply', '-f', '-'], yaml.join('---\n'));
    assert.equal(applied.code, 0, `want the mesh applied; stderr: ${applied.stderr}`);
    proxies.push(await startProxy(proxyArgs('web', await createToken('web'))));
    proxies.push(await startProxy(proxyArgs('client', await createToken('client'), `${o.client}:15001`)));
  } catch (err) {
    // Half a mesh must not outlive the failure (its processes would hold the test file open).
    await Promise.all(proxies.map((p) => p.stop()));
    app.server.close();
    await cp.stop();
    throw err;
  }
  return {
    get cp() {
      return cp;
    },
    meshPort,
    proxies,
    cli,
    createToken,
    proxyArgs,
    viaClient: () => curl(['-s', '-i', '-x', `http://${o.client}:15001`, 'http://web.shop:8080/']),
    restartControlPlane: async (kill) => {
      if (kill) await cp.kill();
      else await cp.stop();
      cp = await startControlPlane({
        dataDir: cp.dataDir,
        args: [...(o.cpArgs ?? []), '--mesh-listen', `127.0.0.1:${meshPort}`],
      });
    },
    stop: async () => {
      await Promise.all(proxies.map((p) => p.stop()));
      app.server.close();
      await cp.stop();
    },
  };
}

/** Requests through the client's forward proxy, one after another, until stopped. */
export function steadyLoad(client: string): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loop = (async () => {
    while (running) {
      const r = await curl([
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-x',
        `http://${client}:15001`,
        'http://web.shop:8080/',
      ]);
      if (r.body === '200') ok++;
      else failed.push(`${r.status} ${r.body}`);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

/** A VirtualService for web that sets `x-route: value` on responses. */
export function virtualServiceHeader(value: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  http:
  - headers: {response: {set: {x-route: ${value}}}}
    route: [{destination: {host: web.shop.svc.cluster.local}}]
`;
}
