import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostPolicy } from './request-guard.ts';

test('HostPolicy: listen addresses and localhost names with the port, allowed names for any port', () => {
  const hosts = new HostPolicy(['cp.example', 'lb.example:443']);
  hosts.allowListener('10.0.0.5', 15080);
  const cases = [
    { host: '10.0.0.5:15080', want: true },
    { host: '127.0.0.1:15080', want: true },
    { host: 'LOCALHOST:15080', want: true },
    { host: '[::1]:15080', want: true },
    { host: 'cp.example:9999', want: true },
    { host: 'cp.example', want: true },
    { host: 'lb.example:443', want: true },
    { host: 'lb.example:80', want: false },
    { host: '127.0.0.1:15081', want: false },
    { host: 'attacker.example:15080', want: false },
    { host: '', want: false },
  ];
  for (const c of cases)
    assert.equal(hosts.isAllowed(c.host), c.want, `Host ${JSON.stringify(c.host)}: want ${c.want}`);
});
