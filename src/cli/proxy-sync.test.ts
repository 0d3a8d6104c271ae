import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnState, type ProxyStatusRow } from './proxy-sync.ts';

function row(types: ProxyStatusRow['types']): ProxyStatusRow {
  return {
    id: 'proxy-1',
    workload: 'shop/web',
    address: '127.0.0.1',
    peer: '127.0.0.1',
    identity: 'spiffe://cluster.local/ns/shop/sa/web',
    agent: 'alder/0',
    connectedAt: new Date(0).toISOString(),
    syncedRevision: '1',
    types,
  };
}

describe('proxy-status columns', () => {
  it('proxy-status: ROUTES shows the worst of the route tables and their virtual hosts', () => {
    const types = ['route', 'vhost'] as const;
    const synced = { state: 'SYNCED' as const, version: 'a' };
    assert.equal(columnState(row({ route: synced, vhost: synced }), types), 'SYNCED');
    assert.equal(columnState(row({ route: synced, vhost: { ...synced, state: 'STALE' } }), types), 'STALE');
    assert.equal(
      columnState(
        row({ route: { ...synced, state: 'NACKED' }, vhost: { ...synced, state: 'STALE' } }),
        types,
      ),
      'NACKED',
    );
    assert.equal(columnState(row({}), types), '-', 'want - when the proxy reported neither');
  });
});
