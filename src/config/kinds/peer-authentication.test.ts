import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

function doc(spec: string, apiVersion = 'security.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}
kind: PeerAuthentication
metadata:
  name: p
  namespace: default
spec:${spec}
`;
}

const good: AcceptCase[] = [
  { name: 'a namespace-wide STRICT policy', yaml: doc('\n  mtls:\n    mode: STRICT') },
  {
    name: 'port-level mTLS on selected workloads, with a port written as a YAML integer',
    yaml: doc(`
  selector:
    matchLabels:
      app: httpbin
  mtls:
    mode: PERMISSIVE
  portLevelMtls:
    8080:
      mode: STRICT
    "9090":
      mode: DISABLE`),
  },
  { name: 'UNSET, which inherits from the parent', yaml: doc('\n  mtls:\n    mode: UNSET') },
  { name: 'v1beta1', yaml: doc('\n  mtls:\n    mode: DISABLE', 'security.istio.io/v1beta1') },
  { name: 'no spec at all', yaml: doc('').replace('spec:\n', '') },
  {
    name: 'a selector without matchLabels, with a warning',
    yaml: doc('\n  selector: {}\n  mtls:\n    mode: STRICT'),
    warning: { path: 'spec.selector', message: /selects every workload/ },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'an unknown mode',
    yaml: doc('\n  mtls:\n    mode: BLAH'),
    path: 'spec.mtls.mode',
    message: /must be one of UNSET, DISABLE, PERMISSIVE, STRICT, got "BLAH"/,
  },
  {
    name: 'a lowercase mode',
    yaml: doc('\n  mtls:\n    mode: strict'),
    path: 'spec.mtls.mode',
    message: /one of UNSET, DISABLE, PERMISSIVE, STRICT/,
  },
  {
    name: 'port-level mTLS when there is no selector',
    yaml: doc('\n  portLevelMtls:\n    80:\n      mode: STRICT'),
    path: 'spec.portLevelMtls',
    message: /requires a selector with matchLabels/,
  },
  {
    name: 'port-level mTLS when the selector has no labels',
    yaml: doc('\n  selector: {}\n  portLevelMtls:\n    80:\n      mode: STRICT'),
    path: 'spec.portLevelMtls',
    message: /requires a selector with matchLabels/,
  },
  {
    name: 'port-level mTLS when it names no port',
    yaml: doc('\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls: {}'),
    path: 'spec.portLevelMtls',
    message: /must name at least one port/,
  },
  {
    name: 'port 0',
    yaml: doc('\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    0:\n      mode: STRICT'),
    path: 'spec.portLevelMtls["0"]',
    message: /must be a port number between 1 and 65535, got "0"/,
  },
  {
    name: 'a port above 65535',
    yaml: doc(
      '\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    42949672:\n      mode: STRICT',
    ),
    path: 'spec.portLevelMtls["42949672"]',
    message: /between 1 and 65535/,
  },
  {
    name: 'a port that is not a number',
    yaml: doc(
      '\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    acd:\n      mode: STRICT',
    ),
    path: 'spec.portLevelMtls.acd',
    message: /must be a port number/,
  },
  {
    name: 'an unknown port-level mode',
    yaml: doc('\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    80:\n      mode: ON'),
    path: 'spec.portLevelMtls["80"].mode',
    message: /one of UNSET, DISABLE, PERMISSIVE, STRICT/,
  },
  {
    name: 'a wildcard in a selector value',
    yaml: doc('\n  selector:\n    matchLabels:\n      app: "httpbin-*"'),
    path: 'spec.selector.matchLabels.app',
    message: /wildcards are not supported in selectors/,
  },
  {
    name: 'an empty label key in a selector',
    yaml: doc('\n  selector:\n    matchLabels: {"": x}'),
    path: 'spec.selector.matchLabels[""]',
    message: /an empty label key is not supported/,
  },
  {
    name: 'a misspelt field',
    yaml: doc('\n  mTLS:\n    mode: STRICT'),
    path: 'spec.mTLS',
    message: /unknown field \(did you mean "mtls"\?\)/,
  },
];

describe('PeerAuthentication', () => {
  runKindTable('PeerAuthentication', { good, bad });

  it('PeerAuthentication: prints a refused port with its file line, object and field', () => {
    const r = load(
      doc('\n  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    0:\n      mode: STRICT'),
    );
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:11 PeerAuthentication default/p: spec.portLevelMtls["0"]: must be a port number between 1 and 65535, got "0"',
    ]);
  });
});
