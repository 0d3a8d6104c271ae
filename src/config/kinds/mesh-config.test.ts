import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';
import { meshConfigDefaults, resolveMeshConfig } from './mesh-config.ts';

function doc(spec: string, metadata = '  name: default'): string {
  return `apiVersion: mesh.alder.dev/v1alpha1
kind: MeshConfig
metadata:
${metadata}
spec:${spec}
`;
}

const good: AcceptCase[] = [
  { name: 'no spec, for every default', yaml: doc('').replace('spec:\n', '') },
  { name: 'an empty spec', yaml: doc(' {}') },
  {
    name: 'every field set',
    yaml: doc(`
  trustDomain: example.org
  rootNamespace: mesh-root
  mtls:
    mode: PERMISSIVE
  outboundTrafficPolicy:
    mode: ALLOW_ANY
  protocolDetection:
    enabled: true
    timeout: 250ms
  tracing:
    sampling: 0.5
  accessLogging:
    enabled: false
    encoding: TEXT
  enableAutoMtls: false
  connectTimeout: 2.5s
  hbone:
    enabled: false
    port: 15009
  http:
    headersWithUnderscoresAction: DROP_HEADER
    extensionMethods: [PURGE, BAN]
    maxMethodLength: 40
    numTrustedProxies: 1
  pathNormalization:
    normalization: DECODE_AND_MERGE_SLASHES`),
  },
  {
    name: "Istio's DEFAULT path normalization",
    yaml: doc('\n  pathNormalization:\n    normalization: DEFAULT'),
  },
  { name: 'no path normalization', yaml: doc('\n  pathNormalization:\n    normalization: NONE') },
  {
    name: 'ALLOW for header names with underscores',
    yaml: doc('\n  http:\n    headersWithUnderscoresAction: ALLOW'),
  },
  {
    name: 'an extension method as long as the raised maxMethodLength',
    yaml: doc(`\n  http:\n    maxMethodLength: 40\n    extensionMethods: [${'X'.repeat(40)}]`),
  },
  { name: 'a fully qualified trust domain', yaml: doc('\n  trustDomain: example.org.') },
];

const bad: RefuseCase[] = [
  {
    name: 'a name other than default',
    yaml: doc(' {}', '  name: mesh'),
    path: 'metadata.name',
    message: /must be "default": there is one MeshConfig, named default, got "mesh"/,
  },
  {
    name: 'a namespace, since it is cluster-scoped',
    yaml: doc(' {}', '  name: default\n  namespace: alder-system'),
    path: 'metadata.namespace',
    message: /MeshConfig is cluster-scoped: remove metadata.namespace/,
  },
  {
    name: 'a trust domain with capitals',
    yaml: doc('\n  trustDomain: Cluster.Local'),
    path: 'spec.trustDomain',
    message: /must be a lowercase DNS name such as "cluster.local", got "Cluster.Local"/,
  },
  {
    name: 'a trust domain with an empty label',
    yaml: doc('\n  trustDomain: a..b'),
    path: 'spec.trustDomain',
    message: /lowercase DNS name/,
  },
  {
    name: 'an empty trust domain',
    yaml: doc('\n  trustDomain: ""'),
    path: 'spec.trustDomain',
    message: /lowercase DNS name/,
  },
  {
    name: 'a root namespace that is not a namespace name',
    yaml: doc('\n  rootNamespace: Alder_System'),
    path: 'spec.rootNamespace',
    message: /must be a namespace name/,
  },
  {
    name: 'mTLS mode DISABLE, which only a PeerAuthentication may set',
    yaml: doc('\n  mtls:\n    mode: DISABLE'),
    path: 'spec.mtls.mode',
    message: /must be one of STRICT, PERMISSIVE, got "DISABLE"/,
  },
  {
    name: 'an unknown outbound traffic policy',
    yaml: doc('\n  outboundTrafficPolicy:\n    mode: ALLOW_ALL'),
    path: 'spec.outboundTrafficPolicy.mode',
    message: /one of REGISTRY_ONLY, ALLOW_ANY/,
  },
  {
    name: 'a protocol detection timeout of zero',
    yaml: doc('\n  protocolDetection:\n    timeout: 0s'),
    path: 'spec.protocolDetection.timeout',
    message: /at least 1ms/,
  },
  {
    name: 'a protocol detection timeout finer than a millisecond',
    yaml: doc('\n  protocolDetection:\n    timeout: 1500us'),
    path: 'spec.protocolDetection.timeout',
    message: /whole number of milliseconds/,
  },
  {
    name: 'a sampling rate above 100 percent',
    yaml: doc('\n  tracing:\n    sampling: 101'),
    path: 'spec.tracing.sampling',
    message: /between 0 and 100, got 101/,
  },
  {
    name: 'an unknown access log encoding',
    yaml: doc('\n  accessLogging:\n    encoding: XML'),
    path: 'spec.accessLogging.encoding',
    message: /one of JSON, TEXT/,
  },
  {
    name: 'a connect timeout above an hour',
    yaml: doc('\n  connectTimeout: 2h'),
    path: 'spec.connectTimeout',
    message: /at most 3600000ms/,
  },
  {
    name: 'enableAutoMtls as a string',
    yaml: doc('\n  enableAutoMtls: "yes"'),
    path: 'spec.enableAutoMtls',
    message: /must be true or false/,
  },
  {
    name: "an underscore action that is not one of Envoy's three",
    yaml: doc('\n  http:\n    headersWithUnderscoresAction: REJECT'),
    path: 'spec.http.headersWithUnderscoresAction',
    message: /must be one of ALLOW, REJECT_REQUEST, DROP_HEADER, got "REJECT"/,
  },
  {
    name: 'an extension method with a space',
    yaml: doc('\n  http:\n    extensionMethods: ["MY METHOD"]'),
    path: 'spec.http.extensionMethods[0]',
    message: /must be a method name \(an HTTP token such as "PURGE"\), got "MY METHOD"/,
  },
  {
    name: 'an extension method longer than the default maxMethodLength',
    yaml: doc(`\n  http:\n    extensionMethods: [PURGE, ${'X'.repeat(33)}]`),
    path: 'spec.http.extensionMethods[1]',
    message: /is 33 bytes, over http.maxMethodLength \(32\): raise maxMethodLength or the method is refused/,
  },
  {
    name: 'a maxMethodLength that would refuse registered methods',
    yaml: doc('\n  http:\n    maxMethodLength: 8'),
    path: 'spec.http.maxMethodLength',
    message: /between 17 and 1024, got 8/,
  },
  {
    name: 'a negative numTrustedProxies',
    yaml: doc('\n  http:\n    numTrustedProxies: -1'),
    path: 'spec.http.numTrustedProxies',
    message: /got -1/,
  },
  {
    name: 'a path normalization Istio does not have',
    yaml: doc('\n  pathNormalization:\n    normalization: MERGE'),
    path: 'spec.pathNormalization.normalization',
    message: /must be one of DEFAULT, NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, got "MERGE"/,
  },
  {
    name: 'an Istio field Alder does not have',
    yaml: doc('\n  accessLogFile: /dev/stdout'),
    path: 'spec.accessLogFile',
    message: /unknown field/,
  },
];

describe('MeshConfig', () => {
  runKindTable('MeshConfig', {
    good,
    bad,
    alsoAccepted: (r) =>
      assert.equal(r.resources[0]?.resource.metadata.namespace, undefined, 'want no namespace'),
  });

  it('MeshConfig: prints a refused name with its file line and object', () => {
    const r = load(doc(' {}', '  name: mesh'));
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:4 MeshConfig mesh: metadata.name: must be "default": there is one MeshConfig, named default, got "mesh"',
    ]);
  });

  it("MeshConfig: resolves to the mesh's opinions when nothing is set", () => {
    const want = {
      trustDomain: 'cluster.local',
      rootNamespace: 'alder-system',
      mtls: { mode: 'STRICT' },
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      protocolDetection: { enabled: false, timeout: '100ms' },
      tracing: { sampling: 1 },
      accessLogging: { enabled: true, encoding: 'JSON' },
      enableAutoMtls: true,
      connectTimeout: '10s',
      hbone: { enabled: true, port: 15008 },
      http: {
        headersWithUnderscoresAction: 'REJECT_REQUEST',
        extensionMethods: [],
        maxMethodLength: 32,
        numTrustedProxies: 0,
      },
      pathNormalization: { normalization: 'BASE' },
    };
    assert.deepEqual(meshConfigDefaults(), want);
    assert.deepEqual(resolveMeshConfig(undefined), want);
    assert.deepEqual(resolveMeshConfig({}), want);
  });

  it('MeshConfig: resolves set fields over the defaults, field by field', () => {
    const resolved = resolveMeshConfig({
      mtls: { mode: 'PERMISSIVE' },
      protocolDetection: { enabled: true },
      accessLogging: { encoding: 'TEXT' },
      tracing: { sampling: 0 },
      enableAutoMtls: false,
    });
    assert.equal(resolved.mtls.mode, 'PERMISSIVE');
    assert.deepEqual(resolved.protocolDetection, { enabled: true, timeout: '100ms' });
    assert.deepEqual(resolved.accessLogging, { enabled: true, encoding: 'TEXT' });
    assert.equal(resolved.tracing.sampling, 0, 'want 0 kept, not replaced by the default');
    assert.equal(resolved.enableAutoMtls, false, 'want false kept, not replaced by the default');
    assert.equal(resolved.trustDomain, 'cluster.local');
    const http = resolveMeshConfig({ http: { extensionMethods: ['PURGE'], numTrustedProxies: 0 } }).http;
    assert.deepEqual(
      http,
      {
        headersWithUnderscoresAction: 'REJECT_REQUEST',
        extensionMethods: ['PURGE'],
        maxMethodLength: 32,
        numTrustedProxies: 0,
      },
      'want http resolved field by field',
    );
  });

  it("MeshConfig: pathNormalization resolves Istio's DEFAULT and unset to BASE, the rest as set", () => {
    const cases = [
      { spec: {}, want: 'BASE' },
      { spec: { pathNormalization: {} }, want: 'BASE' },
      { spec: { pathNormalization: { normalization: 'DEFAULT' as const } }, want: 'BASE' },
      { spec: { pathNormalization: { normalization: 'NONE' as const } }, want: 'NONE' },
      { spec: { pathNormalization: { normalization: 'MERGE_SLASHES' as const } }, want: 'MERGE_SLASHES' },
    ];
    for (const c of cases) {
      assert.equal(
        resolveMeshConfig(c.spec).pathNormalization.normalization,
        c.want,
        `want ${JSON.stringify(c.spec)} to resolve to ${c.want}`,
      );
    }
  });

  it('MeshConfig: gives a fresh copy of the defaults each time', () => {
    const a = meshConfigDefaults();
    a.mtls.mode = 'PERMISSIVE';
    assert.equal(meshConfigDefaults().mtls.mode, 'STRICT');
  });
});
