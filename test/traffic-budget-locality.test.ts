// Two policies that keep a mesh standing when parts of it fail, through real proxies: the retry
// budget and maxRetries (retries cannot multiply an overload: the tries counted at the apps stay
// within the limit), and locality-aware load balancing (requests stay in the client's zone while it
// has healthy endpoints, and fail over to another region when it has none).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  countByWorkload,
  describeReply,
  destinationRule,
  httpService,
  startTrafficMesh,
  TestHeader,
  type TrafficMesh,
  testKey,
  virtualService,
} from './traffic-fixture.ts';

const CLIENT = '127.0.34.1';

describe('traffic: retry budget and locality failover through real proxies', () => {
  let t: TrafficMesh;

  before(async () => {
    t = await startTrafficMesh({
      prefix: 'traffic-budget',
      clientAddress: CLIENT,
      clientLocality: 'us-east/zone-a',
      ports: [9080],
      servers: [
        { name: 'busy-1', address: '127.0.34.2', labels: { app: 'busy' } },
        { name: 'busy-2', address: '127.0.34.3', labels: { app: 'busy' } },
        { name: 'near', address: '127.0.34.4', labels: { app: 'geo' }, locality: 'us-east/zone-a' },
        { name: 'far', address: '127.0.34.5', labels: { app: 'geo' }, locality: 'us-west/zone-b' },
      ],
      yaml: [
        httpService('limited', { app: 'busy' }),
        httpService('budgeted', { app: 'busy' }),
        httpService('geo', { app: 'geo' }),
        virtualService(
          'limited',
          ['limited'],
          '- route: [{destination: {host: limited}}]\n  retries: {attempts: 5, retryOn: 5xx}',
        ),
        virtualService(
          'budgeted',
          ['budgeted'],
          '- route: [{destination: {host: budgeted}}]\n  retries: {attempts: 5, retryOn: 5xx}',
        ),
        destinationRule('limited', { trafficPolicy: 'connectionPool: {http: {maxRetries: 2}}' }),
        destinationRule('geo', {
          trafficPolicy: `loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {enabled: true}}
outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}`,
        }),
      ].join('---\n'),
    });
  });

  after(async () => {
    await t?.stop();
  });

  /** 10 requests at once to `host`, every try answered 503 after 300 ms; returns the tries the apps saw. */
  async function overload(host: string): Promise<number> {
    const key = testKey(host);
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.client.send(`http://${host}.shop:9080/busy`, {
          headers: { [TestHeader.key]: key, [TestHeader.status]: '503', [TestHeader.delayMs]: '300' },
          timeoutMs: 15_000,
        }),
      ),
    );
    for (const r of replies)
      assert.equal(r.status, 503, `want the apps' 503 passed on, got ${describeReply(r)}`);
    return t.fleet.hits(key);
  }

  it('retries: maxRetries 2 keeps at most 2 retries in flight: 10 failing requests make at most 10 + 2×5 tries, not 60', async () => {
    const tries = await overload('limited');
    assert.ok(tries > 10, `want some requests retried (more than 10 tries), got ${tries} tries`);
    assert.ok(tries <= 20, `want at most 20 tries (10 + 2 concurrent retries × 5 attempts), got ${tries}`);
  });

  it('retries: the retry budget alone (20% of requests in flight, at least 3) bounds the tries too', async () => {
    const tries = await overload('budgeted');
    assert.ok(tries > 10, `want some requests retried (more than 10 tries), got ${tries} tries`);
    assert.ok(tries <= 25, `want at most 25 tries (10 + 3 concurrent retries × 5 attempts), got ${tries}`);
  });

  it("locality: requests stay in the client's zone, and fail over to another region when it has no healthy endpoint", async () => {
    const local = [];
    for (let i = 0; i < 20; i++) local.push(await t.client.send('http://geo.shop:9080/where'));
    assert.deepEqual(countByWorkload(local), { near: 20 }, 'want every request served in us-east/zone-a');
    // The zone's endpoint fails once: outlier detection ejects it (consecutive5xxErrors 1).
    const failed = await t.client.send('http://geo.shop:9080/where', {
      headers: { [TestHeader.status]: '503', [TestHeader.on]: 'near' },
    });
    assert.equal(
      failed.workload,
      'near',
      `want the failing request served by near, got ${describeReply(failed)}`,
    );
    const after = [];
    for (let i = 0; i < 20; i++) after.push(await t.client.send('http://geo.shop:9080/where'));
    assert.deepEqual(countByWorkload(after), { far: 20 }, 'want every request failed over to us-west/zone-b');
  });
});
