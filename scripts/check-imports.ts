// Keeps the data flow one way: each folder of src/ may import only the folders listed for it, and
// only through its public faces (index.ts, and the extra faces listed in FACES); inside src/proxy, a
// folder imports only folders of lower layers, through their index.ts. Run by `npm test`; prints each
// offending import and exits 1.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Which folders each folder may import (besides itself and the leaf src/version.ts). */
const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  telemetry: [],
  demo: [],
  wire: ['config'],
  identity: ['config'],
  agent: ['config', 'compile', 'wire', 'identity', 'telemetry', 'proxy'],
  compile: ['config', 'wire'],
  vet: ['config', 'compile'],
  control: ['config', 'compile', 'wire', 'identity', 'telemetry', 'vet'],
  proxy: ['config', 'compile', 'wire', 'identity', 'telemetry'],
  dashboard: ['config', 'wire', 'telemetry'],
  cli: ['config', 'compile', 'wire', 'identity', 'telemetry', 'vet', 'control', 'proxy', 'agent'],
};

/**
 * The proxy's layers, lowest first: connections come in at the top (listeners, inbound/outbound
 * paths), pass the codec-facing connection managers, the router and the upstream layer, and every
 * layer may use those below it. The files at the top of src/proxy (the process, dispatch) sit above all.
 */
const PROXY_LAYERS: readonly (readonly string[])[] = [
  ['local-reply', 'http', 'http1', 'l4', 'tls'],
  ['routing', 'balance', 'authz', 'jwt'],
  ['upstream'],
  ['runtime'],
  ['router'],
  ['http1-server', 'http2-server'],
  ['inbound', 'outbound'],
  ['listeners', 'admin'],
];
const TOP_LAYER = PROXY_LAYERS.length;

function proxyLayer(folder: string): number | undefined {
  const at = PROXY_LAYERS.findIndex((layer) => layer.includes(folder));
  return at === -1 ? undefined : at;
}

/**
 * Public faces besides index.ts, each a lighter subset for code that must not load the whole folder.
 * config/core.ts: errors, the RE2 translator and the validator language, without YAML or kind schemas,
 * so that a proxy given a snapshot loads no config machinery.
 * proxy/explain.ts: the explanation of a request against a snapshot, for `alder explain`; kept out of
 * proxy/index.ts so that a running proxy loads its admin views only when its admin port is asked.
 * agent/supervisor.ts: what an `alder run` served by the node proxy needs (the node's socket, the
 * app's addresses, environment and process), so that it loads no proxy.
 * wire/stream.ts: the stream's messages and line framing, without the snapshot codec and its checks.
 */
const FACES: Record<string, readonly string[]> = {
  config: ['core.ts'],
  proxy: ['explain.ts'],
  agent: ['supervisor.ts'],
  wire: ['stream.ts'],
};

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function faces(folder: string): string[] {
  return ['index.ts', ...(FACES[folder] ?? [])];
}

const problems: string[] = [];
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;
for (const file of files(SRC)) {
  const from = relative(SRC, file).split('/')[0] as string;
  const isTest = file.endsWith('.test.ts');
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const target = resolve(dirname(file), m[1] as string);
    const rel = relative(SRC, target);
    if (rel.startsWith('..')) continue;
    checkProxyLayer(file, rel, m[1] as string, isTest);
    const parts = rel.split('/');
    if (parts.length === 1) continue; // a leaf file at the top of src/ (version.ts)
    const to = parts[0] as string;
    if (to === from) continue;
    const where = `${relative(resolve(SRC, '..'), file)}: imports ${m[1]}`;
    const allowed = ALLOWED[from];
    if (allowed === undefined)
      problems.push(`${where}: src/${from} is not listed in scripts/check-imports.ts`);
    else if (!allowed.includes(to))
      problems.push(
        `${where}: src/${from} may not import src/${to} (allowed: ${allowed.join(', ') || 'nothing of ours'})`,
      );
    else if (!isTest && !faces(to).includes(parts.slice(1).join('/')))
      problems.push(`${where}: import src/${to} through ${faces(to).join(' or ')}`);
  }
}
/** Inside src/proxy: imports point to a lower layer's folder, through its index.ts. */
function checkProxyLayer(file: string, rel: string, spec: string, isTest: boolean): void {
  const fromParts = relative(SRC, file).split('/');
  const toParts = rel.split('/');
  if (fromParts[0] !== 'proxy' || toParts[0] !== 'proxy') return;
  const fromFolder = fromParts.length > 2 ? (fromParts[1] as string) : '';
  const toFolder = toParts.length > 2 ? (toParts[1] as string) : '';
  if (fromFolder === toFolder) return;
  const where = `${relative(resolve(SRC, '..'), file)}: imports ${spec}`;
  const fromLayer = fromFolder === '' ? TOP_LAYER : proxyLayer(fromFolder);
  const toLayer = toFolder === '' ? TOP_LAYER : proxyLayer(toFolder);
  if (fromLayer === undefined || toLayer === undefined) {
    const missing = fromLayer === undefined ? fromFolder : toFolder;
    problems.push(`${where}: src/proxy/${missing} is not in PROXY_LAYERS of scripts/check-imports.ts`);
  } else if (toLayer >= fromLayer) {
    const target = toFolder === '' ? 'the top of src/proxy' : `src/proxy/${toFolder}`;
    problems.push(
      `${where}: src/proxy/${fromFolder || '(top)'} may not import ${target}, which is not in a lower layer`,
    );
  } else if (!isTest && toParts.length > 2 && toParts[2] !== 'index.ts') {
    problems.push(`${where}: import src/proxy/${toFolder} through its index.ts`);
  }
}

if (problems.length > 0) {
  process.stderr.write(`import check failed:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('import check: every import follows the data flow\n');
