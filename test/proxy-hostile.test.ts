// Every hostile request of test/corpus/http1, sent as raw bytes over a socket to a real proxy — to an
// app's outbound port (then over mTLS to the app's inbound proxy) and straight to an inbound port —
// is refused with its expected status, and the app never receives a complete request.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './harness.ts';
import { rawExchange, TestBed } from './mesh-fixture.ts';
import { clientWebYaml, peerAuthentication, yamlDocs } from './mesh-yaml.ts';

const CORPUS = join(ROOT, 'test', 'corpus', 'http1');
const VALID = join(ROOT, 'test', 'corpus', 'http1-valid');
/** `goodBefore`: valid requests that precede the hostile one in the same file, which the app does get. */
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as Record<
  string,
  { status: number; reason: string; goodBefore?: number }
>;

/** The mesh: client (127.0.9.1) → web (.2), whose inbound port is PERMISSIVE so it takes raw bytes too. */
function config(appPort: number): string {
  return yamlDocs(
    clientWebYaml({ client: '127.0.9.1', web: '127.0.9.2', appPort, egress: true }),
    peerAuthentication('web', 'shop', 'PERMISSIVE'),
  );
}

describe('proxy: hostile HTTP/1.1 corpus', () => {
  const bed = new TestBed('hostile');
  let completeRequests = 0;
  let onRequest: (() => void) | undefined;
  /** Resolves when the app has seen `n` complete requests, or after 2 s (the assertion then tells). */
  const appCount = (n: number) =>
    new Promise<void>((resolve) => {
      if (completeRequests >= n) return resolve();
      const timer = setTimeout(resolve, 2000);
      onRequest = () => {
        if (completeRequests < n) return;
        clearTimeout(timer);
        resolve();
      };
    });

  before(async () => {
    const app = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        completeRequests++;
        onRequest?.();
        res.end('ok');
      });
    });
    await bed.startMesh({
      yaml: config(await bed.listen(app)),
      workloads: [{ name: 'web' }, { name: 'client' }],
    });
  });

  after(() => bed.close());

  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.http'))
    .sort();

  it(`corpus: holds at least 150 hostile requests (has ${files.length})`, () => {
    assert.ok(files.length >= 150, `want at least 150 hostile requests, found ${files.length}`);
    for (const f of files) assert.ok(expected[f] !== undefined, `want ${f} listed in expected.json`);
  });

  // The outbound port routes by Host before it reads a body: the corpus's usual `a.example` becomes a
  // host the mesh knows, so that body defects are found (and not refused earlier as unknown hosts).
  const routable = (bytes: Buffer) =>
    Buffer.from(
      bytes.toString('latin1').replace('\r\nHost: a.example\r\n', '\r\nHost: web.shop:8080\r\n'),
      'latin1',
    );
  for (const [target, host, prepare] of [
    ['outbound port', '127.0.9.1', routable],
    ['inbound port', '127.0.9.2', (b: Buffer) => b],
  ] as const) {
    it(`hostile: every corpus request to the ${target} is refused with its status and reaches no app`, async () => {
      const wrong: string[] = [];
      for (const file of files) {
        const want = expected[file]?.status;
        const before = completeRequests;
        const good = expected[file]?.goodBefore ?? 0;
        // Half-closes after the bytes; whatever came back before the proxy closed (2 s at most).
        const { reply } = await rawExchange(host, 8080, prepare(readFileSync(join(CORPUS, file))), {
          timeoutMs: 2000,
        });
        await appCount(before + good);
        if (completeRequests !== before + good) {
          wrong.push(
            `${file}: want ${good} complete requests at the app (those before the hostile one), it got ${completeRequests - before}`,
          );
        }
        // The answers to the good requests come first, in order; the refusal is the last answer.
        const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
        if (statuses.length !== good + 1 && statuses.length > 0)
          wrong.push(
            `${file}: want ${good + 1} answers (${good} before the refusal), got ${statuses.length}`,
          );
        const got = statuses[statuses.length - 1] ?? 0;
        if (got !== want) wrong.push(`${file}: want ${want}, got ${got || 'no answer'}`);
        else if (!/\r\nx-alder-response-flags: DPE\r\n/i.test(reply))
          wrong.push(`${file}: want flag DPE on the refusal`);
      }
      assert.deepEqual(
        wrong,
        [],
        `want every hostile request refused as expected (${wrong.length} of ${files.length} were not)`,
      );
    });
  }

  it('valid corpus: the unusual but valid requests reach the app and are answered', async () => {
    const valid = readdirSync(VALID).filter(
      (f) => f.endsWith('.http') && !/absolute-form|connect|options-asterisk/i.test(f),
    );
    const wrong: string[] = [];
    for (const file of valid) {
      // Straight to the inbound port, which routes every request to its app whatever its Host.
      const exchanged = await rawExchange('127.0.9.2', 8080, readFileSync(join(VALID, file)), {
        timeoutMs: 2000,
      });
      const reply = exchanged.reply.replace(/^HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n/, '');
      if (!/^HTTP\/1\.1 200 /.test(reply))
        wrong.push(`${file}: want 200, got ${reply.split('\r\n')[0] || 'no answer'}`);
    }
    assert.deepEqual(wrong, [], 'want every valid request answered by the app');
  });
});
