import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding } from '../index.ts';
import { type AcceptCase, load, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

function doc(rest: string, name = 'bookinfo-reviews'): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: default
${rest}`;
}

const good: AcceptCase[] = [
  { name: 'metadata alone', yaml: doc('') },
  {
    name: 'secrets, image pull secrets and automountServiceAccountToken',
    yaml: doc(`secrets:
- name: token
  namespace: default
imagePullSecrets:
- name: registry
automountServiceAccountToken: false
`),
  },
];

const bad: RefuseCase[] = [
  { name: 'a spec', yaml: doc('spec: {}\n'), path: 'spec', message: /ServiceAccount has no spec/ },
  { name: 'an unknown top-level field', yaml: doc('token: abc\n'), path: 'token', message: /unknown field/ },
  {
    name: 'automountServiceAccountToken as a string',
    yaml: doc('automountServiceAccountToken: "no"\n'),
    path: 'automountServiceAccountToken',
    message: /must be true or false/,
  },
  {
    name: 'an unknown field in an image pull secret',
    yaml: doc('imagePullSecrets:\n- nam: registry\n'),
    path: 'imagePullSecrets[0].nam',
    message: /unknown field \(did you mean "name"\?\)/,
  },
  {
    name: 'a name that is not a DNS subdomain',
    yaml: doc('', 'Reviews'),
    path: 'metadata.name',
    message: /must be a lowercase DNS-1123 subdomain/,
  },
];

describe('ServiceAccount', () => {
  runKindTable('ServiceAccount', { good, bad });

  it('ServiceAccount: prints a refused spec with its file line and object', () => {
    const r = load(doc('spec: {}\n'));
    assert.deepEqual(r.errors.map(formatFinding), [
      'x.yaml:6 ServiceAccount default/bookinfo-reviews: spec: ServiceAccount has no spec',
    ]);
  });
});
