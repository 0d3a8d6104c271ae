// Finds the programs the benchmark runs (nginx, haproxy, openssl, cc, taskset) and, when run as root
// and allowed, installs the missing ones from Debian's packages with apt-get. Fails with the command
// to run when it cannot.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Tools {
  nginx: string;
  haproxy: string | undefined;
  openssl: string;
  cc: string;
  taskset: string | undefined;
}

/** Program → Debian package that provides it. */
const PACKAGES = {
  nginx: 'nginx',
  haproxy: 'haproxy',
  openssl: 'openssl',
  cc: 'gcc libc6-dev',
  taskset: 'util-linux',
} as const;
type Program = keyof typeof PACKAGES;

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const path = `${dir}/${program}`;
    if (dir !== '' && existsSync(path)) return path;
  }
  return undefined;
}

export interface ToolNeeds {
  needsHaproxy: boolean;
  mayInstall: boolean;
  log: (line: string) => void;
}

export function ensureTools(o: ToolNeeds): Tools {
  const wanted: Program[] = ['nginx', 'openssl', 'cc', 'taskset'];
  if (o.needsHaproxy) wanted.push('haproxy');
  const missing = wanted.filter((p) => which(p) === undefined);
  if (missing.length > 0) install(missing, o);
  const found = (p: Program) => {
    const path = which(p);
    if (path === undefined) throw new Error(`${p} is still missing after installing ${PACKAGES[p]}`);
    return path;
  };
  return {
    nginx: found('nginx'),
    haproxy: o.needsHaproxy ? found('haproxy') : undefined,
    openssl: found('openssl'),
    cc: found('cc'),
    taskset: which('taskset'),
  };
}

function install(missing: Program[], o: ToolNeeds): void {
  const packages = missing.flatMap((p) => PACKAGES[p].split(' '));
  const command = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!o.mayInstall || !isRoot || which('apt-get') === undefined) {
    const why = !o.mayInstall ? '--no-install was given' : !isRoot ? 'not running as root' : 'no apt-get';
    throw new Error(
      `missing ${missing.join(', ')} (${why}); install them with: apt-get update && ${command}`,
    );
  }
  o.log(`installing ${packages.join(' ')} with apt-get (missing: ${missing.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (r.status !== 0) {
      const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
      throw new Error(`apt-get ${args[0]} failed (exit ${r.status}); run \`${command}\` by hand:\n${tail}`);
    }
  }
}

/** First line of `PROGRAM -v`-style output (stdout or stderr), for the result's environment record. */
export function versionOf(program: string, args: string[]): string {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? 'unknown';
}
