// Table tests of the address connections to peers leave from: a workload's own loopback address
// towards loopback peers, the kernel's choice otherwise.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localAddressTowards, peerSourceAddress } from './source-address.ts';

const cases: { name: string; workload: string; destination: string; want: string | undefined }[] = [
  {
    name: 'a loopback workload to a loopback peer',
    workload: '127.77.0.5',
    destination: '127.77.0.9',
    want: '127.77.0.5',
  },
  {
    name: 'a loopback workload to 127.0.0.1',
    workload: '127.77.0.5',
    destination: '127.0.0.1',
    want: '127.77.0.5',
  },
  {
    name: 'a loopback workload to a host address',
    workload: '127.77.0.5',
    destination: '10.0.0.7',
    want: undefined,
  },
  {
    name: 'a loopback workload to a name',
    workload: '127.77.0.5',
    destination: 'reviews.local',
    want: undefined,
  },
  { name: 'a loopback workload to ::1', workload: '127.77.0.5', destination: '::1', want: undefined },
  {
    name: 'a workload on 127.0.0.1 (the default already)',
    workload: '127.0.0.1',
    destination: '127.77.0.9',
    want: undefined,
  },
  { name: 'a workload on a host address', workload: '10.0.0.5', destination: '127.77.0.9', want: undefined },
  { name: 'a workload on IPv6 loopback', workload: '::1', destination: '127.77.0.9', want: undefined },
  { name: 'a workload without an address', workload: '', destination: '127.77.0.9', want: undefined },
  {
    name: 'a name that looks like loopback',
    workload: '127.example.com',
    destination: '127.77.0.9',
    want: undefined,
  },
];

describe('source-address', () => {
  for (const c of cases) {
    it(`source-address: ${c.name} leaves from ${c.want ?? "the kernel's choice"}`, () => {
      const got = localAddressTowards(peerSourceAddress(c.workload), c.destination);
      assert.equal(got, c.want, `${c.workload} → ${c.destination}: want ${c.want ?? "the kernel's choice"}`);
    });
  }
});
