// Real Istio manifests (../shared/istio-samples, read in place) compile: every file holding
// VirtualServices or DestinationRules, with the minimal Services and WorkloadEntries it implies
// (one per host it routes to, one workload per subset), gives a snapshot the codec accepts.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type DestinationRuleSpec,
  loadSources,
  type Resource,
  type ServiceEntrySpec,
  type ServiceSpec,
  type VirtualServiceSpec,
} from '../config/index.ts';
import { decodeSnapshot, encodeSnapshot } from '../wire/index.ts';
import { compileSnapshot } from './compile-snapshot.ts';
import { resolveShortname } from './hosts.ts';

const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'shared', 'istio-samples');
const CLUSTER_SUFFIX = '.svc.cluster.local';

function samples(): string[] {
  if (!existsSync(SAMPLES)) return [];
  return readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .filter((f) =>
      /^kind:\s*(VirtualService|DestinationRule)\s*$/m.test(readFileSync(join(SAMPLES, f), 'utf8')),
    )
    .sort();
}

interface Wanted {
  fqdn: string;
  ports: Map<number, string>;
  subsets: Record<string, string>[];
}

/**
 * Services the sample's routes and rules name (`namespace/name` for cluster-local hosts, the host for
 * others), with the ports routes use and the labels of subsets.
 */
function impliedServices(resources: readonly Resource[]): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  const want = (host: string, namespace: string, port?: { number: number; prefix: string }) => {
    const fqdn = resolveShortname(host, namespace);
    if (fqdn.startsWith('*') || !fqdn.includes('.')) return undefined;
    const isLocal = fqdn.endsWith(CLUSTER_SUFFIX);
    const [name = '', ns = ''] = fqdn.slice(0, -CLUSTER_SUFFIX.length).split('.');
    const key = isLocal ? `${ns}/${name}` : fqdn;
    const w = wanted.get(key) ?? { fqdn, ports: new Map([[9080, 'http']]), subsets: [] };
    wanted.set(key, w);
    if (port !== undefined && !w.ports.has(port.number))
      w.ports.set(port.number, `${port.prefix}-${port.number}`);
    return w;
  };
  for (const r of resources) {
    const namespace = r.metadata.namespace ?? 'default';
    if (r.kind === 'VirtualService') {
      const spec = r.spec as VirtualServiceSpec;
      for (const h of spec.hosts ?? []) want(h, namespace);
      const routes = [
        ...(spec.http ?? []).flatMap((h) => [
          ...(h.route ?? []),
          ...(h.mirror ? [{ destination: h.mirror }] : []),
        ]),
      ].map((d) => ({ d: d.destination, prefix: 'http' }));
      const l4 = [
        ...(spec.tcp ?? []).flatMap((t) => t.route.map((d) => ({ d: d.destination, prefix: 'tcp' }))),
        ...(spec.tls ?? []).flatMap((t) => t.route.map((d) => ({ d: d.destination, prefix: 'tls' }))),
      ];
      for (const { d, prefix } of [...routes, ...l4]) {
        want(d.host, namespace, d.port === undefined ? undefined : { number: d.port.number, prefix });
      }
    } else if (r.kind === 'DestinationRule') {
      const spec = r.spec as DestinationRuleSpec;
      const w = want(spec.host, namespace);
      for (const s of spec.subsets ?? []) w?.subsets.push({ ...(s.labels ?? {}) });
    }
  }
  return wanted;
}

/** Services, ServiceEntries and WorkloadEntries for what the sample implies but does not define, and a client. */
function syntheticYaml(resources: readonly Resource[]): string {
  const defined = new Set([
    ...resources
      .filter((r) => r.kind === 'Service')
      .map((r) => `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`),
    ...resources.flatMap((r) =>
      r.kind === 'ServiceEntry' ? ((r.spec as ServiceEntrySpec).hosts ?? []) : [],
    ),
  ]);
  const docs = [
    'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: sample-client, namespace: default}\nspec: {address: 127.0.9.1, labels: {app: sample-client}}',
  ];
  let n = 2;
  for (const [key, w] of impliedServices(resources)) {
    if (defined.has(key) || defined.has(w.fqdn)) continue;
    if (!key.includes('/')) {
      const ports = [...w.ports].map(
        ([port, name]) => `{number: ${port}, name: ${name}, protocol: ${name.split('-')[0]}}`,
      );
      docs.push(
        `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se-${n++}, namespace: default}\nspec:\n  hosts: [${key}]\n  resolution: DNS\n  ports: [${ports.join(', ')}]`,
      );
      continue;
    }
    const [ns = '', name = ''] = key.split('/');
    const ports = [...w.ports].map(([port, portName]) => `{name: ${portName}, port: ${port}}`).join(', ');
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  selector: {app: ${name}}\n  ports: [${ports}]`,
    );
    for (const labels of [{}, ...w.subsets]) {
      const all = JSON.stringify({ ...labels, app: name });
      docs.push(
        `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: ${name}-${n}, namespace: ${ns}}\nspec: {address: 127.0.9.${n}, labels: ${all}, locality: region/zone-${n % 2}}`,
      );
      n++;
    }
  }
  return docs.join('\n---\n');
}

describe('compile: Istio sample manifests', () => {
  const files = samples();
  it('istio samples: the folder is there and holds VirtualServices and DestinationRules', () => {
    assert.ok(existsSync(SAMPLES), `want the Istio samples beside the repository, at ${SAMPLES}`);
    assert.ok(files.length >= 30, `want the ~38 sample files with routes or rules, got ${files.length}`);
  });
  for (const file of files) {
    it(`istio samples: ${file} compiles to a snapshot the codec accepts`, () => {
      const text = readFileSync(join(SAMPLES, file), 'utf8');
      const sample = loadSources([{ name: file, text }]);
      assert.deepEqual(sample.errors, [], `${file} must load`);
      const resources = sample.resources.map((r) => r.resource);
      const extra = loadSources([{ name: 'synthetic.yaml', text: syntheticYaml(resources) }]);
      assert.deepEqual(extra.errors, [], 'the synthetic services must load');
      const all = [...resources, ...extra.resources.map((r) => r.resource)];
      const snap = compileSnapshot(all, { workload: { namespace: 'default', name: 'sample-client' } });
      const back = decodeSnapshot(encodeSnapshot(snap));
      assert.equal(back.version, snap.version);
      const services = all.filter((r): r is Resource<ServiceSpec> => r.kind === 'Service').length;
      assert.ok(
        snap.clusters.length >= services,
        `want a cluster per service port, got ${snap.clusters.length}`,
      );
    });
  }
});
