// Table tests of withoutMeshHeaders: an app's x-alder-* never pass as the mesh's, and a response
// without them is returned as it is (no copy on the hot path).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutMeshHeaders } from './mesh-headers.ts';

describe('withoutMeshHeaders', () => {
  const cases = [
    {
      name: 'none to drop',
      input: ['content-type', 'text/plain', 'x-app', 'web'],
      want: ['content-type', 'text/plain', 'x-app', 'web'],
    },
    { name: 'an empty list', input: [], want: [] },
    {
      name: "an app's response flags and other x-alder-* fields",
      input: [
        'x-alder-response-flags',
        'UF',
        'content-type',
        'text/plain',
        'x-alder-foo',
        '1',
        'x-app',
        'web',
      ],
      want: ['content-type', 'text/plain', 'x-app', 'web'],
    },
    { name: 'only mesh fields', input: ['x-alder-response-flags', 'UF'], want: [] },
    {
      name: 'look-alikes kept',
      input: ['x-alderx', '1', 'x-alder', '2'],
      want: ['x-alderx', '1', 'x-alder', '2'],
    },
  ];
  for (const c of cases) {
    it(`mesh headers: ${c.name}`, () => {
      assert.deepEqual(withoutMeshHeaders([...c.input]), c.want);
    });
  }
  it('mesh headers: returns the same array when nothing is dropped', () => {
    const headers = ['content-type', 'text/plain'];
    assert.equal(withoutMeshHeaders(headers), headers);
  });
});
