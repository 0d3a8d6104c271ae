// Traffic management over HTTP/2 and gRPC, through two real proxies with mTLS: routes matched on gRPC
// metadata (headers), retries on gRPC status (`unavailable`) with the attempts counted at the app, a
// request body sent again on a retry, route timeouts answered as gRPC errors, and faults with a gRPC
// status. The app speaks gRPC framing by hand (test/grpc-kit.ts).

import assert from 'node:assert/strict';
import {
  type ClientHttp2Session,
  connect,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { deframer, frame, grpcResult, grpcStream, within } from './grpc-kit.ts';
import { TestBed } from './mesh-fixture.ts';
import {
  sidecarEgress,
  sidecarIngress,
  sidecarPort,
  workloadEntry,
  workloadEntryWith,
  yamlDocs,
} from './mesh-yaml.ts';
import { destinationRule } from './traffic-fixture.ts';

const CLIENT = '127.0.33.1';
const V1 = '127.0.33.2';
const V2 = '127.0.33.3';

/**
 * A gRPC app: `/shop.Greeter/SayHello` answers `hello <message> from <name>`. Metadata steers it:
 * `x-fail-times: N` with `x-key` makes the first N calls with that key answer UNAVAILABLE
 * (Trailers-Only); `x-delay-ms` waits before answering.
 */
function greeter(name: string, calls: Map<string, number>): Http2Server {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const key = String(headers['x-key'] ?? '');
    const seen = (calls.get(key) ?? 0) + 1;
    calls.set(key, seen);
    const failTimes = Number(headers['x-fail-times'] ?? 0);
    const messages: string[] = [];
    stream.on(
      'data',
      deframer((m) => messages.push(m)),
    );
    stream.on('end', () => {
      const answer = () => {
        if (stream.closed) return;
        if (seen <= failTimes) {
          stream.respond(
            {
              ':status': 200,
              'content-type': 'application/grpc',
              'grpc-status': '14',
              'grpc-message': 'busy',
            },
            { endStream: true },
          );
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(`hello ${messages.join('+')} from ${name}`));
      };
      const delay = Number(headers['x-delay-ms'] ?? 0);
      if (delay > 0) setTimeout(answer, delay).unref();
      else answer();
    });
  });
  return server;
}

/** A greeter workload: its Sidecar selects `app: <its name>`, the Service selects `service: greeter`. */
function versionedEntry(name: string, address: string, version: string): string {
  return workloadEntryWith({ name, address, labels: { app: name, service: 'greeter', version } });
}

function config(port1: number, port2: number): string {
  const app = (port: number) => [{ port: sidecarPort(9090, 'GRPC'), appPort: port }];
  return yamlDocs(
    `apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: shop}
spec:
  selector: {service: greeter}
  ports: [{name: grpc, port: 9090}]
`,
    versionedEntry('greeter-v1', V1, 'v1'),
    versionedEntry('greeter-v2', V2, 'v2'),
    workloadEntry('client', 'shop', CLIENT),
    sidecarIngress('greeter-v1', 'shop', app(port1)),
    sidecarIngress('greeter-v2', 'shop', app(port2)),
    sidecarEgress('client', 'shop', [{ port: { number: 9090 }, bind: CLIENT, hosts: ['./*'] }]),
    destinationRule('greeter', { subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } } }),
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: greeter, namespace: shop}
spec:
  hosts: [greeter]
  http:
  - name: canary
    match: [{headers: {x-canary: {exact: "yes"}}}]
    route: [{destination: {host: greeter, subset: v2}}]
  - name: slow
    match: [{headers: {x-route: {exact: slow}}}]
    timeout: 300ms
    route: [{destination: {host: greeter, subset: v1}}]
  - name: aborted
    match: [{headers: {x-route: {exact: abort}}}]
    fault: {abort: {grpcStatus: RESOURCE_EXHAUSTED, percentage: {value: 100}}}
    route: [{destination: {host: greeter, subset: v1}}]
  - name: default
    retries: {attempts: 3, retryOn: unavailable}
    route: [{destination: {host: greeter, subset: v1}}]
`,
  );
}

describe('traffic over gRPC: routing, retries, timeouts and faults through real proxies', () => {
  const bed = new TestBed('traffic-grpc');
  let session: ClientHttp2Session;
  const calls = new Map<string, number>();

  before(async () => {
    const v1 = await bed.listen(greeter('v1', calls));
    const v2 = await bed.listen(greeter('v2', calls));
    await bed.startMesh({
      yaml: config(v1, v2),
      workloads: [{ name: 'greeter-v1' }, { name: 'greeter-v2' }, { name: 'client' }],
      wantCleanExit: true,
    });
    session = connect(`http://${CLIENT}:9090`);
    session.on('error', () => undefined);
    bed.defer(() => session.destroy());
  });

  after(() => bed.close());

  const call = (metadata: Record<string, string>, messages = ['world']) => {
    const stream = grpcStream(session, 'greeter.shop:9090', '/shop.Greeter/SayHello', metadata);
    for (const m of messages) stream.write(frame(m));
    stream.end();
    return within(grpcResult(stream), `the reply to ${JSON.stringify(metadata)}`);
  };
  const statusOf = (r: Awaited<ReturnType<typeof call>>) =>
    r.headers['grpc-status'] ?? r.trailers['grpc-status'];

  it('grpc routing: a metadata (header) match sends the call to its subset', async () => {
    const canary = await call({ 'x-canary': 'yes' });
    assert.deepEqual(
      canary.messages,
      ['hello world from v2'],
      `want v2 for x-canary: yes, got ${JSON.stringify(canary)}`,
    );
    const plain = await call({});
    assert.deepEqual(
      plain.messages,
      ['hello world from v1'],
      `want v1 otherwise, got ${JSON.stringify(plain)}`,
    );
  });

  it('grpc retries: UNAVAILABLE twice, then OK: the caller gets OK and the app saw 3 calls, each with the body', async () => {
    const r = await call({ 'x-key': 'retry-ok', 'x-fail-times': '2' }, ['a', 'b']);
    assert.equal(statusOf(r), '0', `want grpc-status 0 after retries, got ${JSON.stringify(r)}`);
    assert.deepEqual(
      r.messages,
      ['hello a+b from v1'],
      'want both request messages at the try that answered',
    );
    assert.equal(calls.get('retry-ok'), 3, 'want 1 call + 2 retries at the app');
  });

  it("grpc retries: when attempts run out, the app's UNAVAILABLE reaches the caller after attempts + 1 calls", async () => {
    const r = await call({ 'x-key': 'retry-out', 'x-fail-times': '100' });
    assert.equal(statusOf(r), '14', `want the app's UNAVAILABLE, got ${JSON.stringify(r)}`);
    assert.equal(
      r.headers['x-alder-response-flags'],
      undefined,
      "want the app's own answer, not a proxy reply",
    );
    assert.equal(calls.get('retry-out'), 4, 'want 1 call + 3 retries at the app');
  });

  it('grpc timeout: a route timeout answers UNAVAILABLE with flag UT, quickly', async () => {
    const started = performance.now();
    const r = await call({ 'x-route': 'slow', 'x-delay-ms': '3000' });
    const took = performance.now() - started;
    assert.equal(statusOf(r), '14', `want grpc-status 14, got ${JSON.stringify(r)}`);
    assert.equal(r.headers['x-alder-response-flags'], 'UT', `want flag UT, got ${JSON.stringify(r.headers)}`);
    assert.ok(took < 2000, `want the answer near the 300 ms timeout, took ${Math.round(took)} ms`);
  });

  it('grpc fault: an abort with grpcStatus answers that status with flag FI, and no app sees the call', async () => {
    const before = calls.get('abort') ?? 0;
    const r = await call({ 'x-route': 'abort', 'x-key': 'abort' });
    assert.equal(statusOf(r), '8', `want RESOURCE_EXHAUSTED (8), got ${JSON.stringify(r)}`);
    assert.equal(r.headers['x-alder-response-flags'], 'FI', 'want flag FI');
    assert.equal(calls.get('abort') ?? 0, before, 'want no call at the app');
  });
});
