import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meshEnvironment, upstreamVariable } from './app-env.ts';

describe('the environment an app gets in the mesh', () => {
  it('app env: HTTP_PROXY to the forward proxy, loopback direct, NODE_USE_ENV_PROXY for Node apps', () => {
    const env = meshEnvironment({
      outboundProxy: { address: '127.0.0.21', port: 15001 },
      command: '/usr/bin/node',
    });
    assert.equal(env.HTTP_PROXY, 'http://127.0.0.21:15001');
    assert.equal(env.http_proxy, env.HTTP_PROXY, 'want the lower-case form curl and Python read too');
    assert.equal(env.NO_PROXY, 'localhost,127.0.0.1,::1');
    assert.equal(env.NODE_USE_ENV_PROXY, '1');
    const python = meshEnvironment({ outboundProxy: { address: '::1', port: 15001 }, command: 'python3' });
    assert.equal(python.HTTP_PROXY, 'http://[::1]:15001', 'want an IPv6 address in brackets');
    assert.equal(python.NODE_USE_ENV_PROXY, undefined, 'want the Node switch for Node apps only');
  });

  it('app env: no forward proxy, no proxy variables; upstream ports named by service and port', () => {
    const env = meshEnvironment({
      outboundProxy: null,
      command: 'java',
      upstreams: [
        { service: 'ratings.shop.svc.cluster.local', port: 9080, address: '127.0.0.21', localPort: 9080 },
      ],
    });
    assert.deepEqual(env, { ALDER_UPSTREAM_RATINGS_9080: '127.0.0.21:9080' });
    assert.equal(upstreamVariable('kv-store', 6379), 'ALDER_UPSTREAM_KV_STORE_6379');
  });
});
