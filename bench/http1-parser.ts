// HTTP/1 parser benchmark: Alder's strict RequestParser against Node's llhttp, to decide "own parser vs
// node:http + checks". Prints requests/second and ratios; writes bench/results/http1-parser.json.
// Run: node_modules/.bin/node bench/http1-parser.ts [--seconds=N]   (it re-runs itself with
// --expose-internals to reach llhttp).
//
// 1. Parse only, in-process. Both parsers get the same bytes, one request per execute() call, on one
//    long-lived parser (a keep-alive connection), with callbacks that only count. llhttp is driven
//    through `internalBinding('http_parser')`, the binding node:http itself uses and the method of Node's
//    own benchmark/http/bench-parser.js: native llhttp plus the JS callbacks that build the header
//    array, url and body slices. That is the fair unit: strings handed to JS on both sides. (Alder
//    also lower-cases names, checks framing and Host, and builds its head object; llhttp does not.)
// 2. End to end over loopback: node:http server vs a raw net server running RequestParser, both with a
//    no-op handler answering a fixed 2-byte body. A worker thread (its own core and event loop) runs a
//    keep-alive client: C connections, one request in flight on each, counting whole responses.
// 3. Strictness, for the same decision: each hostile request of test/corpus/http1 is sent to a
//    node:http server (default options) on its own connection; the bench counts the ones its handler
//    answered 200 (Alder refuses every one of them; the corpus tests prove that).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { RequestParser } from '../src/proxy/http1/index.ts';

const GET = Buffer.from(
  'GET /api/v1/reviews/42?include=ratings HTTP/1.1\r\n' +
    'Host: reviews.default.svc:9080\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n' +
    'Accept: application/json, text/plain, */*\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\n' +
    'Accept-Language: en-US,en;q=0.9\r\n' +
    'Connection: keep-alive\r\n' +
    'Cookie: session=3f1c2a9b8d7e6f5a; theme=dark\r\n' +
    'X-Request-Id: 9f2b7c1e-0d4a-4b8e-9a51-3c2f6e8d7a10\r\n' +
    'Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n' +
    'X-Forwarded-For: 10.0.0.7\r\n\r\n',
  'latin1',
);
const POST = Buffer.from(
  'POST /api/v1/reviews HTTP/1.1\r\n' +
    'Host: reviews.default.svc:9080\r\n' +
    'User-Agent: curl/8.5.0\r\n' +
    'Accept: */*\r\n' +
    'Content-Type: application/json\r\n' +
    'Transfer-Encoding: chunked\r\n' +
    'X-Request-Id: 9f2b7c1e-0d4a-4b8e-9a51-3c2f6e8d7a10\r\n\r\n' +
    `200\r\n${'a'.repeat(512)}\r\n200\r\n${'b'.repeat(512)}\r\n0\r\n\r\n`,
  'latin1',
);

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 1);

// ---- 1. parse only

function alderParser(counter: { n: number }): (buf: Buffer) => void {
  const parser = new RequestParser({
    onHead() {},
    onBody() {},
    onEnd() {
      counter.n++;
    },
    onError(e) {
      throw new Error(`bench input refused: ${e.reason}`);
    },
  });
  return (buf) => {
    let i = 0;
    while (i < buf.length) i = parser.execute(buf, i);
  };
}

interface LlhttpParser {
  initialize(type: number, resource: object): void;
  execute(buf: Buffer): number | Error;
  [k: number]: unknown;
}

function llhttpParser(counter: { n: number }): (buf: Buffer) => void {
  const require = createRequire(import.meta.url);
  const { internalBinding } = require('internal/test/binding') as { internalBinding(n: string): unknown };
  const { HTTPParser } = internalBinding('http_parser') as {
    HTTPParser: (new () => LlhttpParser) & Record<string, number>;
  };
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST as number, {});
  parser[HTTPParser.kOnHeaders as number] = () => {};
  parser[HTTPParser.kOnHeadersComplete as number] = () => {};
  parser[HTTPParser.kOnBody as number] = () => {};
  parser[HTTPParser.kOnMessageComplete as number] = () => {
    counter.n++;
  };
  return (buf) => {
    const r = parser.execute(buf);
    if (typeof r !== 'number') throw r;
  };
}

/** Requests/second of `run` over `buf`, in batches, for `seconds`. */
function rate(run: (buf: Buffer) => void, buf: Buffer, counter: { n: number }): number {
  const start = counter.n;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let k = 0; k < 2000; k++) run(buf);
    t = performance.now();
  }
  return ((counter.n - start) * 1000) / (t - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function parseOnly() {
  const out: Record<string, { alder: number; llhttp: number; ratio: number }> = {};
  for (const [name, buf] of [
    ['GET, 10 headers', GET],
    ['POST, 1 KiB chunked', POST],
  ] as const) {
    const ca = { n: 0 };
    const cl = { n: 0 };
    const alder = alderParser(ca);
    const llhttp = llhttpParser(cl);
    rate(alder, buf, ca); // warm up both
    rate(llhttp, buf, cl);
    const a: number[] = [];
    const l: number[] = [];
    for (let round = 0; round < 5; round++) {
      a.push(rate(alder, buf, ca));
      l.push(rate(llhttp, buf, cl));
    }
    out[name] = { alder: median(a), llhttp: median(l), ratio: median(a) / median(l) };
  }
  return out;
}

// ---- 2. end to end over loopback

const RESPONSE_BODY = 'ok';

function nodeHttpServer(): net.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end(RESPONSE_BODY);
    });
  });
}

function alderServer(): net.Server {
  let date = new Date().toUTCString();
  let response = build();
  function build(): Buffer {
    return Buffer.from(
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\ndate: ${date}\r\n` +
        `connection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n${RESPONSE_BODY}`,
      'latin1',
    );
  }
  const timer = setInterval(() => {
    date = new Date().toUTCString();
    response = build();
  }, 1000);
  timer.unref();
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    const parser = new RequestParser({
      onHead() {},
      onBody() {},
      onEnd() {
        socket.write(response);
      },
      onError(e) {
        socket.end(`HTTP/1.1 ${e.status} x\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      },
    });
    socket.on('data', (buf: Buffer) => {
      let i = 0;
      while (i < buf.length && !parser.isDead) i = parser.execute(buf, i);
    });
    socket.on('error', () => {});
  });
}

interface ClientJob {
  port: number;
  request: Buffer;
  connections: number;
  ms: number;
}

/** Worker: keep-alive clients, one request in flight per connection; posts responses/second. */
async function clientWorker(job: ClientJob): Promise<number> {
  const probe = await new Promise<number>((resolve) => {
    const s = net.connect(job.port, '127.0.0.1', () => s.write(job.request));
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0 && got.length >= end + 4 + RESPONSE_BODY.length) {
        s.destroy();
        resolve(end + 4 + RESPONSE_BODY.length);
      }
    });
  });
  let done = 0;
  let isRunning = true;
  const sockets = Array.from({ length: job.connections }, () => {
    const s = net.connect(job.port, '127.0.0.1', () => s.write(job.request));
    s.setNoDelay(true);
    let pending = 0;
    s.on('data', (d) => {
      pending += d.length;
      while (pending >= probe) {
        pending -= probe;
        done++;
        if (isRunning) s.write(job.request);
      }
    });
    s.on('error', () => {});
    return s;
  });
  await new Promise((r) => setTimeout(r, 300)); // warm up
  const start = done;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, job.ms));
  const rps = ((done - start) * 1000) / (performance.now() - t0);
  isRunning = false;
  for (const s of sockets) s.destroy();
  return rps;
}

async function endToEnd() {
  const out: Record<string, { alder: number; nodeHttp: number; ratio: number }> = {};
  for (const [name, request] of [
    ['GET, 10 headers', GET],
    ['POST, 1 KiB chunked', POST],
  ] as const) {
    const figures: Record<string, number[]> = { alder: [], nodeHttp: [] };
    for (let round = 0; round < 3; round++) {
      for (const [which, make] of [
        ['nodeHttp', nodeHttpServer],
        ['alder', alderServer],
      ] as const) {
        const server = make();
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const port = (server.address() as net.AddressInfo).port;
        const job: ClientJob = { port, request, connections: 32, ms: seconds * 1000 };
        const worker = new Worker(new URL(import.meta.url), { workerData: job, execArgv: [] });
        const rps = await new Promise<number>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        await worker.terminate();
        if (server instanceof http.Server) server.closeAllConnections();
        await new Promise((r) => server.close(r));
        figures[which]?.push(rps);
      }
    }
    const alder = median(figures.alder ?? []);
    const nodeHttp = median(figures.nodeHttp ?? []);
    out[name] = { alder, nodeHttp, ratio: alder / nodeHttp };
  }
  return out;
}

interface CorpusEntry {
  reason: string;
  note: string;
}

/** Hostile corpus requests node:http answers 200 to, counted by Alder's rejection reason. */
async function nodeHttpStrictness() {
  const dir = join(import.meta.dirname, '..', 'test', 'corpus', 'http1');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    CorpusEntry
  >;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
    req.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted: Record<string, number> = {};
  const files = readdirSync(dir).filter((f) => f.endsWith('.http'));
  for (const file of files) {
    const reply = await new Promise<string>((resolve) => {
      let got = '';
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(readFileSync(join(dir, file)));
        setTimeout(() => s.end(), 30);
      });
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
      });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    const entry = expected[file] as CorpusEntry;
    // Two files send a good request before the bad one: only a second 200 counts for them.
    const oks = reply.split('HTTP/1.1 200').length - 1;
    if (oks > (/good request|second pipelined/.test(entry.note) ? 1 : 0)) {
      accepted[entry.reason] = (accepted[entry.reason] ?? 0) + 1;
    }
  }
  server.close();
  return { files: files.length, accepted };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(11);
}

async function main() {
  if (!isMainThread) {
    parentPort?.postMessage(await clientWorker(workerData as ClientJob));
    return;
  }
  if (!process.execArgv.includes('--expose-internals')) {
    const args = [
      '--expose-internals',
      '--no-warnings',
      ...process.execArgv,
      import.meta.filename,
      ...process.argv.slice(2),
    ];
    const child = spawnSync(process.execPath, args, { stdio: 'inherit' });
    process.exit(child.status ?? 1);
  }
  console.log(`node ${process.version}, ${seconds}s per measurement\n`);
  console.log('parse only, requests/second (median of 5)');
  const parse = parseOnly();
  for (const [name, r] of Object.entries(parse)) {
    console.log(
      `  ${name.padEnd(22)} alder ${fmt(r.alder)}   llhttp ${fmt(r.llhttp)}   alder/llhttp ${r.ratio.toFixed(2)}`,
    );
  }
  console.log('\nend to end over loopback, 32 keep-alive connections, responses/second (median of 3)');
  const e2e = await endToEnd();
  for (const [name, r] of Object.entries(e2e)) {
    console.log(
      `  ${name.padEnd(22)} alder ${fmt(r.alder)}   node:http ${fmt(r.nodeHttp)}   alder/node:http ${r.ratio.toFixed(2)}`,
    );
  }
  const strict = await nodeHttpStrictness();
  const total = Object.values(strict.accepted).reduce((a, b) => a + b, 0);
  console.log(
    `\nstrictness: node:http (defaults) answered 200 to ${total} of ${strict.files} hostile requests`,
  );
  const byReason = Object.entries(strict.accepted).sort((a, b) => b[1] - a[1]);
  console.log(`  ${byReason.map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const result = { node: process.version, seconds, parse, e2e, strictness: strict };
  writeFileSync(join(dir, 'http1-parser.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
