// The `alder` command as a user runs it: real processes against a real control plane, checking
// output, exit codes (0 done, 1 failed, 2 usage) and that no stack trace ever reaches the user.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  alder,
  type RunningControlPlane,
  removeDir,
  SAMPLES,
  startControlPlane,
  tempDir,
} from './harness.ts';

const BOOKINFO = join(SAMPLES, 'samples__bookinfo__platform__kube__bookinfo.yaml');
const NO_STACK = /\n\s+at .+:\d+:\d+/;

describe('alder CLI', () => {
  let cp: RunningControlPlane;
  let dir: string;
  before(async () => {
    cp = await startControlPlane();
    dir = tempDir('cli');
  });
  after(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
    removeDir(dir);
  });

  it('apply: Bookinfo stores Services and ServiceAccounts and skips Deployments with one notice', async () => {
    const r = await alder(['apply', '-f', BOOKINFO], { server: cp.url });
    assert.equal(r.code, 0, `want exit 0, got ${r.code}: ${r.stderr}`);
    assert.match(r.stdout, /^service\/reviews created$/m);
    assert.match(r.stdout, /^serviceaccount\/bookinfo-reviews created$/m);
    const notices = r.stderr.split('\n').filter((l) => l.startsWith('notice:'));
    assert.deepEqual(notices, ['notice: skipped 6 Deployment (apps/v1): Alder does not manage this kind']);
    const again = await alder(['apply', '-f', BOOKINFO], { server: cp.url });
    assert.match(again.stdout, /^service\/reviews unchanged$/m, 'want a second apply to change nothing');
  });

  it('apply, validate: one notice per kind stored or validated but not enforced yet (AuthorizationPolicy and RequestAuthentication are enforced)', async () => {
    const file = join(dir, 'not-enforced.yaml');
    const policy = (name: string) =>
      `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ne}\nspec: {action: DENY, rules: [{to: [{operation: {methods: [DELETE]}}]}]}\n`;
    writeFileSync(
      file,
      [
        policy('deny-delete'),
        policy('deny-delete-too'),
        'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: ne}\nspec: {jwtRules: [{issuer: https://issuer.example}]}\n',
        'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: ne}\nspec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}\n',
      ].join('---\n'),
    );
    const want = (done: string) => [
      `notice: 1 Gateway ${done} but not enforced yet: Alder runs no gateway proxies in this version, so nothing listens on their servers`,
    ];
    const notices = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('notice:'));
    const cases = [
      { name: 'validate', args: ['validate', '-f', file], want: want('validated') },
      { name: 'apply --dry-run', args: ['apply', '--dry-run', '-f', file], want: want('validated') },
      { name: 'apply', args: ['apply', '-f', file], want: want('stored') },
    ];
    for (const c of cases) {
      const r = await alder(c.args, { server: cp.url });
      assert.equal(r.code, 0, `${c.name}: want exit 0, got ${r.code}: ${r.stderr}`);
      assert.deepEqual(notices(r.stderr), c.want, `${c.name}: want one notice per unenforced kind`);
    }
    const enforced = await alder(['apply', '-f', BOOKINFO], { server: cp.url });
    assert.deepEqual(
      notices(enforced.stderr).filter((l) => l.includes('not enforced')),
      [],
      'want no such notice for Services and ServiceAccounts',
    );
  });

  it('get: prints a table, YAML, JSON and names', async () => {
    const table = await alder(['get', 'svc'], { server: cp.url });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+.*AGE$/m, 'want a header row');
    assert.match(table.stdout, /^productpage\s/m);

    const yaml = await alder(['get', 'service', 'reviews', '-o', 'yaml'], { server: cp.url });
    const obj = parse(yaml.stdout) as { kind: string; spec: { ports: { port: number }[] } };
    assert.equal(obj.kind, 'Service');
    assert.equal(obj.spec.ports[0]?.port, 9080);

    const json = await alder(['get', 'sa', '-A', '-o', 'json'], { server: cp.url });
    const list = JSON.parse(json.stdout) as { items: unknown[] };
    assert.equal(list.items.length, 4, 'want the 4 Bookinfo service accounts');

    const names = await alder(['get', 'services', '-o', 'name', '-l', 'app=ratings'], { server: cp.url });
    assert.equal(names.stdout, 'service/ratings\n');
  });

  it('get: an empty namespace says so; a missing object exits 1 with the kind and name', async () => {
    const empty = await alder(['get', 'vs', '-n', 'nowhere'], { server: cp.url });
    assert.equal(empty.code, 0);
    assert.match(empty.stderr, /No resources found in nowhere namespace/);
    const missing = await alder(['get', 'vs', 'ghost'], { server: cp.url });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: VirtualService ghost not found in namespace default/);
  });

  it('apply, get, delete: round trip of Istio routing from a folder', async () => {
    const folder = join(dir, 'routing');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    writeFileSync(
      join(folder, 'vs.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ratings}\nspec:\n  hosts: [ratings]\n  http: [{route: [{destination: {host: ratings, subset: v1}}]}]\n',
    );
    writeFileSync(
      join(folder, 'nested', 'dr.json'),
      JSON.stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'ratings' },
        spec: { host: 'ratings', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      }),
    );
    const applied = await alder(['apply', '-f', folder, '-n', 'shop'], { server: cp.url });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /virtualservice\.networking\.istio\.io\/ratings created/);
    assert.match(applied.stdout, /destinationrule\.networking\.istio\.io\/ratings created/);
    const got = await alder(['get', 'vs,dr', '-n', 'shop'], { server: cp.url });
    assert.match(got.stdout, /virtualservice\.networking\.istio\.io\/ratings/);
    const deleted = await alder(['delete', '-f', folder, '-n', 'shop'], { server: cp.url });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /"ratings" deleted/);
    const gone = await alder(['get', 'vs', '-n', 'shop'], { server: cp.url });
    assert.match(gone.stderr, /No resources found/);
  });

  it('apply: invalid config exits 1 with file:line, object and field, and stores nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: stays-out}\nspec:\n  hosts: [stays-out]\n  http:\n  - timeout: 3 seconds\n    route: [{destination: {host: stays-out}}]\n',
    );
    const r = await alder(['apply', '-f', file], { server: cp.url });
    assert.equal(r.code, 1, `want exit 1, got ${r.code}`);
    assert.match(
      r.stderr,
      /bad\.yaml:7 VirtualService default\/stays-out: spec\.http\[0\]\.timeout: must be a duration/,
    );
    assert.match(r.stderr, /^hint: /m);
    assert.doesNotMatch(r.stderr, NO_STACK, 'want no stack trace');
    const got = await alder(['get', 'vs', 'stays-out'], { server: cp.url });
    assert.equal(got.code, 1, 'want nothing stored');
  });

  it('apply -f -: reads standard input', async () => {
    const r = await alder(['apply', '-f', '-'], {
      server: cp.url,
      stdin: 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: from-stdin}\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'serviceaccount/from-stdin created\n');
  });

  it('validate: works offline, exit 0 for good files and 1 for bad, every error listed', async () => {
    const good = await alder(['validate', '-f', BOOKINFO], { server: 'http://127.0.0.1:1' });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stderr, /8 objects valid in 1 file/);
    const file = join(dir, 'two-errors.yaml');
    writeFileSync(
      file,
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: x}\nspec:\n  hostt: x\n',
    );
    const bad = await alder(['validate', '-f', file]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      /two-errors\.yaml:5 DestinationRule default\/x: spec\.hostt: unknown field \(did you mean "host"\?\)/,
    );
    assert.match(bad.stdout, /spec\.host: is required/);
  });

  it('usage: --help everywhere, exit 2 for usage mistakes', async () => {
    for (const command of ['apply', 'get', 'delete', 'validate', 'version', 'control-plane']) {
      const r = await alder([command, '--help']);
      assert.equal(r.code, 0, `${command} --help: want exit 0`);
      assert.match(r.stdout, /Usage:/, `${command} --help: want a usage section`);
    }
    const top = await alder(['--help']);
    assert.match(top.stdout, /Commands:/);
    for (const args of [
      ['frobnicate'],
      ['get'],
      ['get', 'vs', '--bogus'],
      ['apply'],
      ['get', 'vs', '-o', 'xml'],
      ['get', 'nonsense'],
    ]) {
      const r = await alder(args, { server: cp.url });
      assert.equal(r.code, 2, `alder ${args.join(' ')}: want exit 2, got ${r.code} (${r.stderr})`);
      assert.match(r.stderr, /^hint: /m, `alder ${args.join(' ')}: want a hint`);
    }
  });

  it('errors: an unreachable server exits 1 with a hint, never a stack trace', async () => {
    const r = await alder(['get', 'vs'], { server: 'http://127.0.0.1:1' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
    assert.match(r.stderr, /hint: start one with `alder control-plane`/);
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  it('version: prints client and server versions', async () => {
    const r = await alder(['version', '-o', 'json'], { server: cp.url });
    const v = JSON.parse(r.stdout) as {
      client: { version: string };
      server: { version: string; store: string };
    };
    assert.equal(v.client.version, v.server.version);
    assert.equal(v.server.store, 'sqlite');
  });
});
