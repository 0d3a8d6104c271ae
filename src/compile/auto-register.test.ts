import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSources, type Resource, type WorkloadGroupSpec } from '../config/index.ts';
import { autoRegisteredEntry, autoRegisteredName } from './auto-register.ts';

const CONNECTED = new Date('2026-03-01T10:00:00.123Z');

/** Istio's documented example group, loaded as a user applies it, with the uid the store gives it. */
function reviewsGroup(extra = ''): Resource<WorkloadGroupSpec> {
  const text = `apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: reviews
  namespace: bookinfo
  uid: 6f1c9a7e-0000-4000-8000-000000000001
spec:
  metadata:
    labels:
      app.kubernetes.io/name: reviews
      app.kubernetes.io/version: "1.3.4"
    annotations:
      example.com/owner: team-a
  template:
    ports:
      grpc: 3550
      http: 8080
    serviceAccount: default
    labels:
      app.kubernetes.io/version: "0.0.1"
      tier: backend
    network: template-net${extra}
  probe:
    httpGet: {path: /foo/bar, port: 3100}
`;
  const result = loadSources([{ name: 'wg.yaml', text }]);
  assert.deepEqual(result.errors, [], 'want the group valid');
  return result.resources[0]?.resource as Resource<WorkloadGroupSpec>;
}

describe('compile: autoRegisteredEntry', () => {
  it('makes the entry Istio makes: template + address, merged labels, annotations and owner', () => {
    const entry = autoRegisteredEntry(reviewsGroup(), {
      address: '10.0.0.5',
      labels: { version: 'v2', tier: 'edge' },
      connectedAt: CONNECTED,
    });
    const labels = {
      'app.kubernetes.io/name': 'reviews',
      'app.kubernetes.io/version': '1.3.4',
      tier: 'edge',
      version: 'v2',
    };
    assert.deepEqual(entry, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: {
        name: 'reviews-10.0.0.5',
        namespace: 'bookinfo',
        labels,
        annotations: {
          'example.com/owner': 'team-a',
          'istio.io/autoRegistrationGroup': 'reviews',
          'istio.io/connectedAt': '2026-03-01T10:00:00.123Z',
          'proxy.istio.io/health-checks-enabled': 'true',
        },
        ownerReferences: [
          {
            apiVersion: 'networking.istio.io/v1',
            kind: 'WorkloadGroup',
            name: 'reviews',
            uid: '6f1c9a7e-0000-4000-8000-000000000001',
            controller: true,
          },
        ],
      },
      spec: {
        ports: { grpc: 3550, http: 8080 },
        serviceAccount: 'default',
        labels,
        network: 'template-net',
        address: '10.0.0.5',
      },
    });
  });

  it("takes the workload's network and locality over the template's, and names the entry with the network", () => {
    const entry = autoRegisteredEntry(reviewsGroup(), {
      address: '10.0.0.5',
      network: 'vm-net',
      locality: 'us-west/zone1',
      connectedAt: CONNECTED,
    });
    assert.equal(entry.metadata.name, 'reviews-10.0.0.5-vm-net');
    assert.equal(entry.spec?.network, 'vm-net');
    assert.equal(entry.spec?.locality, 'us-west/zone1');
  });

  it('leaves the group untouched', () => {
    const group = reviewsGroup();
    const before = structuredClone(group);
    const entry = autoRegisteredEntry(group, { address: '10.0.0.5', labels: { a: 'b' } });
    (entry.spec?.ports as Record<string, number>).http = 1;
    assert.deepEqual(group, before, 'want the group unchanged by making or editing the entry');
  });

  it('uses the name the workload asks for', () => {
    const entry = autoRegisteredEntry(reviewsGroup(), { address: '10.0.0.5', name: 'reviews-vm1' });
    assert.equal(entry.metadata.name, 'reviews-vm1');
  });

  it('makes an entry the control plane accepts as a WorkloadEntry', () => {
    const entry = autoRegisteredEntry(reviewsGroup(), {
      address: '2001:db8::1',
      labels: { version: 'v2' },
      connectedAt: CONNECTED,
    });
    const result = loadSources([{ name: 'we.json', text: JSON.stringify(entry) }]);
    assert.deepEqual(
      result.errors.map((e) => `${e.path}: ${e.message}`),
      [],
      'want the entry valid',
    );
    assert.equal(result.resources[0]?.resource.metadata.name, 'reviews-2001-db8--1');
  });

  it('has no probe annotation when the group has no probe', () => {
    const group = reviewsGroup();
    delete group.spec?.probe;
    const entry = autoRegisteredEntry(group, { address: '10.0.0.5' });
    assert.equal(entry.metadata.annotations?.['proxy.istio.io/health-checks-enabled'], undefined);
  });
});

describe('compile: autoRegisteredName', () => {
  const cases: { name: string; input: [string, string, string?]; want: string }[] = [
    { name: 'an IPv4 address keeps its dots', input: ['reviews', '10.0.0.5'], want: 'reviews-10.0.0.5' },
    { name: 'an IPv6 address has dashes for colons', input: ['reviews', 'fd00::5'], want: 'reviews-fd00--5' },
    { name: 'a network is appended', input: ['reviews', '10.0.0.5', 'net1'], want: 'reviews-10.0.0.5-net1' },
    {
      name: 'a network with characters a name may not hold',
      input: ['reviews', '10.0.0.5', 'West_Net'],
      want: 'reviews-10.0.0.5-west-net',
    },
    {
      name: 'a name past 253 characters is cut from the front',
      input: [`g${'x'.repeat(260)}`, '10.0.0.5'],
      want: `${'x'.repeat(253 - '-10.0.0.5'.length)}-10.0.0.5`,
    },
  ];
  for (const c of cases) {
    it(`names: ${c.name}`, () => {
      const got = autoRegisteredName(...c.input);
      assert.equal(got, c.want, `want ${c.want} for ${JSON.stringify(c.input)}, got ${got}`);
    });
  }
});
