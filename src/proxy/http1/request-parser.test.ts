// Unit tests of RequestParser's contract: head fields (keep-alive, upgrade, CONNECT, 100-continue),
// stopping after each pipelined message, pause(), chunked bodies with trailers, limits, methods, the
// underscore actions, and errors reported before or after the head. The hostile-input table lives in
// corpus.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Http1Rejection } from './errors.ts';
import { type Http1Limits, type Http1LimitsSource, http1Limits } from './limits.ts';
import { methodSet } from './methods.ts';
import { type RequestHead, RequestParser } from './request-parser.ts';

interface Recorded {
  events: string[];
  heads: RequestHead[];
  errors: Http1Rejection[];
  parser: RequestParser;
}

function recorder(limits?: Http1LimitsSource, onHead?: (p: RequestParser) => void): Recorded {
  const r: Recorded = { events: [], heads: [], errors: [], parser: undefined as unknown as RequestParser };
  r.parser = new RequestParser(
    {
      onHead: (head) => {
        r.heads.push(head);
        r.events.push(`head ${head.method} ${head.target}`);
        onHead?.(r.parser);
      },
      onBody: (chunk) => r.events.push(`body ${chunk.toString('latin1')}`),
      onEnd: (trailers) => r.events.push(`end${trailers ? ` ${trailers.join('|')}` : ''}`),
      onError: (e) => {
        r.errors.push(e);
        r.events.push(`error ${e.status} ${e.reason}${e.isAfterHead ? ' after-head' : ''}`);
      },
    },
    limits,
  );
  return r;
}

/** Runs execute() to the end of `text` as the proxy would, in pieces of `piece` bytes (0: whole). */
function feed(r: Recorded, text: string, piece = 0): void {
  const raw = Buffer.from(text, 'latin1');
  const size = piece || raw.length;
  for (let s = 0; s < raw.length && !r.parser.isDead; s += size) {
    const buf = raw.subarray(s, s + size);
    let i = 0;
    while (i < buf.length && !r.parser.isDead) i = r.parser.execute(buf, i);
  }
}

function headOf(text: string): RequestHead {
  const r = recorder();
  feed(r, text);
  assert.deepEqual(r.errors, [], `want accepted: ${JSON.stringify(text)}`);
  return r.heads[0] as RequestHead;
}

const H = 'Host: a.example\r\n';

describe('RequestParser keep-alive (RFC 9112 §9.3)', () => {
  const cases = [
    { name: 'HTTP/1.1 by default', version: '1.1', connection: null, want: true },
    { name: 'HTTP/1.1 with close', version: '1.1', connection: 'close', want: false },
    { name: 'HTTP/1.1 with Close in capitals', version: '1.1', connection: 'Close', want: false },
    { name: 'HTTP/1.1 with keep-alive, close', version: '1.1', connection: 'keep-alive, close', want: false },
    { name: 'HTTP/1.0 by default', version: '1.0', connection: null, want: false },
    { name: 'HTTP/1.0 with keep-alive', version: '1.0', connection: 'keep-alive', want: true },
    { name: 'HTTP/1.0 with Keep-Alive', version: '1.0', connection: 'Keep-Alive', want: true },
    {
      name: 'HTTP/1.0 with keep-alive and close',
      version: '1.0',
      connection: 'keep-alive, close',
      want: false,
    },
    { name: 'HTTP/1.1 with an unrelated option', version: '1.1', connection: 'x-foo', want: true },
  ];
  for (const c of cases) {
    test(`keep-alive: ${c.name} → ${c.want}`, () => {
      const conn = c.connection === null ? '' : `Connection: ${c.connection}\r\n`;
      const head = headOf(`GET / HTTP/${c.version}\r\n${H}${conn}\r\n`);
      assert.equal(head.isKeepAlive, c.want);
      assert.equal(head.version, c.version);
    });
  }
  test('keep-alive: close on a second Connection line counts', () => {
    assert.equal(
      headOf(`GET / HTTP/1.1\r\n${H}Connection: x-a\r\nConnection: close\r\n\r\n`).isKeepAlive,
      false,
    );
  });
});

describe('RequestParser head fields', () => {
  test('head: names lower-cased once, values trimmed, wire order kept, duplicates kept', () => {
    const head = headOf(
      `GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nX-B: 2 \r\nAccept:\t*/*\r\nX-B: 3\r\nx-a: 1\r\n\r\n`,
    );
    assert.deepEqual(head.headers, [
      'host',
      'a.example',
      'x-b',
      '2',
      'accept',
      '*/*',
      'x-b',
      '3',
      'x-a',
      '1',
    ]);
    assert.equal(head.authority, 'a.example');
    assert.equal(head.targetForm, 'origin');
    assert.equal(head.framing, 'none');
    assert.equal(head.contentLength, -1);
  });
  test('head: Expect 100-continue on HTTP/1.1, ignored on HTTP/1.0', () => {
    const body = 'Content-Length: 2\r\nExpect: 100-continue\r\n\r\nhi';
    assert.equal(headOf(`POST / HTTP/1.1\r\n${H}${body}`).expectsContinue, true);
    assert.equal(headOf(`POST / HTTP/1.0\r\n${body}`).expectsContinue, false);
  });
  test('head: websocket upgrade needs Connection: upgrade and HTTP/1.1', () => {
    const up = 'Upgrade: websocket\r\n';
    const yes = headOf(`GET /ws HTTP/1.1\r\n${H}Connection: Upgrade\r\n${up}\r\n`);
    assert.deepEqual([yes.isUpgrade, yes.upgrade], [true, 'websocket']);
    const noConnection = headOf(`GET /ws HTTP/1.1\r\n${H}${up}\r\n`);
    assert.deepEqual([noConnection.isUpgrade, noConnection.upgrade], [false, '']);
    const http10 = headOf(`GET /ws HTTP/1.0\r\nConnection: upgrade\r\n${up}\r\n`);
    assert.equal(http10.isUpgrade, false);
  });
  test('head: CONNECT takes its authority from the target and leaves tunnel bytes unconsumed', () => {
    const r = recorder();
    const raw = Buffer.from('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n\x16\x03\x01TLS');
    const i = r.parser.execute(raw);
    assert.equal(raw.subarray(i).toString('latin1'), '\x16\x03\x01TLS');
    const head = r.heads[0] as RequestHead;
    assert.deepEqual([head.isConnect, head.targetForm, head.authority], [true, 'authority', 'a.example:443']);
    assert.deepEqual(r.events, ['head CONNECT a.example:443', 'end']);
  });
  test('head: absolute-form takes its authority from the target', () => {
    const head = headOf('GET http://b.example:8080/x HTTP/1.1\r\nHost: b.example:8080\r\n\r\n');
    assert.deepEqual([head.targetForm, head.authority], ['absolute', 'b.example:8080']);
  });
  test('head: HTTP/1.0 without Host has an empty authority', () => {
    assert.equal(headOf('GET / HTTP/1.0\r\n\r\n').authority, '');
  });
  test('head: Content-Length framing', () => {
    const head = headOf(`PUT / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`);
    assert.deepEqual([head.framing, head.contentLength], ['length', 3]);
  });
});

describe('RequestParser messages and bodies', () => {
  test('pipelining: execute() stops after each message and returns where the next starts', () => {
    const r = recorder();
    const one = `GET /1 HTTP/1.1\r\n${H}\r\n`;
    const two = `POST /2 HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`;
    const raw = Buffer.from(one + two + one);
    const stops: number[] = [];
    let i = 0;
    while (i < raw.length) {
      i = r.parser.execute(raw, i);
      stops.push(i);
    }
    assert.deepEqual(stops, [one.length, one.length + two.length, raw.length]);
    assert.deepEqual(r.events, [
      'head GET /1',
      'end',
      'head POST /2',
      'body abc',
      'end',
      'head GET /1',
      'end',
    ]);
  });
  test('chunked: body pieces, extensions dropped, trailers in onEnd', () => {
    for (const piece of [0, 1, 3]) {
      const r = recorder();
      feed(
        r,
        `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n`,
        piece,
      );
      const body = r.events.filter((e) => e.startsWith('body ')).map((e) => e.slice(5));
      assert.equal(body.join(''), 'abcde', `piece ${piece}`);
      assert.equal(r.events.at(-1), 'end x-sum|5', `piece ${piece}`);
    }
  });
  test('chunked: a body error after the head is reported with isAfterHead', () => {
    const r = recorder();
    feed(r, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n`);
    assert.deepEqual(r.events, ['head POST /', 'body abc', 'error 400 chunk-size-invalid after-head']);
  });
  test('pause: from onHead, the body waits for the next execute()', () => {
    const r = recorder(undefined, (p) => p.pause());
    const raw = Buffer.from(`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`);
    const i = r.parser.execute(raw);
    assert.equal(raw.length - i, 3);
    assert.deepEqual(r.events, ['head POST /']);
    assert.equal(r.parser.execute(raw, i), raw.length);
    assert.deepEqual(r.events, ['head POST /', 'body abc', 'end']);
  });
  test('pause: from onBody, execute() returns after that chunk', () => {
    const r = recorder();
    const parser = new RequestParser({
      onHead: () => {},
      onBody: (chunk) => {
        r.events.push(chunk.toString());
        parser.pause();
      },
      onEnd: () => r.events.push('end'),
      onError: (e) => r.events.push(e.reason),
    });
    const raw = Buffer.from(
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n`,
    );
    const first = parser.execute(raw);
    assert.deepEqual(r.events, ['ab']);
    let i = first;
    while (i < raw.length) i = parser.execute(raw, i);
    assert.deepEqual(r.events, ['ab', 'cd', 'end']);
  });
  test('onBody chunks are views into the input, not copies', () => {
    const chunks: Buffer[] = [];
    const parser = new RequestParser({
      onHead() {},
      onBody: (c) => chunks.push(c),
      onEnd() {},
      onError() {},
    });
    const raw = Buffer.from(`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`);
    parser.execute(raw);
    assert.equal(chunks[0]?.buffer, raw.buffer);
  });
  test('finish: EOF between messages is clean, EOF inside one is incomplete-message', () => {
    const idle = recorder();
    feed(idle, `GET / HTTP/1.1\r\n${H}\r\n`);
    idle.parser.finish();
    assert.deepEqual(idle.errors, []);
    const cut = recorder();
    feed(cut, `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nab`);
    cut.parser.finish();
    assert.equal(cut.events.at(-1), 'error 400 incomplete-message after-head');
  });
  test('after onError the parser is dead: execute() consumes nothing, onError is not repeated', () => {
    const r = recorder();
    feed(r, 'GET / HTTP/1.1\nHost: a\n\n');
    assert.equal(r.parser.isDead, true);
    assert.equal(r.parser.execute(Buffer.from(`GET / HTTP/1.1\r\n${H}\r\n`)), 0);
    assert.equal(r.errors.length, 1);
  });
});

describe('RequestParser limits', () => {
  const limits = http1Limits({
    maxStartLineBytes: 32,
    maxHeaderLineBytes: 28,
    maxHeaderSectionBytes: 120,
    maxHeaders: 4,
    maxBodyBytes: 10,
    maxChunkExtBytes: 8,
  });
  const cases = [
    { name: 'request line at the limit', input: `GET /${'a'.repeat(18)} HTTP/1.1\r\n${H}\r\n`, want: 'ok' },
    {
      name: 'request line one over',
      input: `GET /${'a'.repeat(19)} HTTP/1.1\r\n${H}\r\n`,
      want: '414 target-too-long',
    },
    {
      name: 'header line at the limit',
      input: `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(23)}\r\n\r\n`,
      want: 'ok',
    },
    {
      name: 'header line one over',
      input: `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(24)}\r\n\r\n`,
      want: '431 header-line-too-long',
    },
    { name: 'four headers', input: `GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, want: 'ok' },
    {
      name: 'five headers',
      input: `GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n`,
      want: '431 too-many-headers',
    },
    {
      name: 'section over',
      input: `GET / HTTP/1.1\r\n${H}A: ${'1'.repeat(25)}\r\nB: ${'2'.repeat(25)}\r\nC: ${'3'.repeat(25)}\r\n\r\n`,
      want: '431 header-section-too-large',
    },
    {
      name: 'Content-Length at the limit',
      input: `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n0123456789`,
      want: 'ok',
    },
    {
      name: 'Content-Length over',
      input: `POST / HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\n`,
      want: '413 body-too-large',
    },
    {
      name: 'chunked total over',
      input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n`,
      want: '413 body-too-large after-head',
    },
    {
      name: 'chunk extension at the limit',
      input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;abcdefg\r\nx\r\n0\r\n\r\n`,
      want: 'ok',
    },
    {
      name: 'chunk extension over',
      input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;abcdefgh\r\nx\r\n0\r\n\r\n`,
      want: '400 chunk-ext-too-long after-head',
    },
  ];
  for (const c of cases) {
    test(`limits: ${c.name} → ${c.want}`, () => {
      for (const piece of [0, 1]) {
        const r = recorder(limits);
        feed(r, c.input, piece);
        const e = r.errors[0];
        const got = e ? `${e.status} ${e.reason}${e.isAfterHead ? ' after-head' : ''}` : 'ok';
        assert.equal(got, c.want, `${c.name} (piece ${piece}): want ${c.want}, got ${got}`);
      }
    });
  }
  test('limits: http1Limits refuses a limit that is not a positive integer, naming it', () => {
    assert.throws(() => http1Limits({ maxHeaders: 0 }), /maxHeaders must be a positive safe integer, got 0/);
    assert.throws(() => http1Limits({ maxBodyBytes: 1.5 }), /maxBodyBytes/);
    assert.throws(() => http1Limits({ maxMethodBytes: 0 }), /maxMethodBytes/);
  });
});

/** `error STATUS reason` of the first rejection, or the head's headers joined with '|'. */
function outcome(limits: Http1Limits | undefined, text: string, piece: number): string {
  const r = recorder(limits);
  feed(r, text, piece);
  const e = r.errors[0];
  return e ? `${e.status} ${e.reason}` : `ok ${r.heads[0]?.headers.join('|')}`;
}

describe('RequestParser header names with underscores (Envoy headers_with_underscores_action)', () => {
  const input = `GET / HTTP/1.1\r\n${H}X_Api_Key: k\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n`;
  const trailer = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX_Sum: 5\r\nX-Ok: 1\r\n\r\n`;
  const cases = [
    { action: 'REJECT_REQUEST', text: input, want: '400 header-name-underscore' },
    { action: 'ALLOW', text: input, want: 'ok host|a.example|x_api_key|k|x-b|2|content-length|0' },
    { action: 'DROP_HEADER', text: input, want: 'ok host|a.example|x-b|2|content-length|0' },
    {
      action: 'DROP_HEADER',
      text: `GET / HTTP/1.1\r\nA_1: 1\r\n${H}A_2: 2\r\n\r\n`,
      want: 'ok host|a.example',
    },
    {
      action: 'DROP_HEADER',
      text: `GET / HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\n\r\n`,
      want: '400 header-name-lookalike',
    },
    {
      action: 'ALLOW',
      text: `GET / HTTP/1.1\r\n${H}Content_Length: 5\r\n\r\n`,
      want: '400 header-name-lookalike',
    },
  ] as const;
  for (const c of cases) {
    test(`underscores: ${c.action} on ${JSON.stringify(c.text.split('\r\n')[2])} → ${c.want}`, () => {
      const limits = http1Limits({ headersWithUnderscoresAction: c.action });
      for (const piece of [0, 1, 5]) {
        const got = outcome(limits, c.text, piece);
        assert.equal(
          got,
          c.want,
          `${c.action} in ${piece || 'whole'}-byte pieces: want ${c.want}, got ${got}`,
        );
      }
    });
  }
  test('underscores: DROP_HEADER keeps framing counted right after a dropped name (Host, Content-Length)', () => {
    const r = recorder(http1Limits({ headersWithUnderscoresAction: 'DROP_HEADER' }));
    feed(r, `POST / HTTP/1.1\r\nX_A: 1\r\n${H}X_B: 2\r\nContent-Length: 3\r\n\r\nabc`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual([r.heads[0]?.authority, r.heads[0]?.contentLength], ['a.example', 3]);
    assert.deepEqual(r.events, ['head POST /', 'body abc', 'end']);
  });
  test('underscores: DROP_HEADER drops them from trailers too; dropped lines still count toward maxHeaders', () => {
    const drop = http1Limits({ headersWithUnderscoresAction: 'DROP_HEADER', maxHeaders: 3 });
    const r = recorder(drop);
    feed(r, trailer);
    assert.equal(r.events.at(-1), 'end x-ok|1');
    assert.equal(
      outcome(drop, `GET / HTTP/1.1\r\n${H}A_1: 1\r\nA_2: 2\r\nA_3: 3\r\n\r\n`, 0),
      '431 too-many-headers',
    );
  });
});

describe('RequestParser methods (IANA registry, case-sensitive, length cap)', () => {
  const line = (method: string) => `${method} / HTTP/1.1\r\n${H}\r\n`;
  const cases = [
    { name: 'GET', method: 'GET', want: 'ok' },
    { name: 'a WebDAV method', method: 'PROPFIND', want: 'ok' },
    { name: 'QUERY (RFC 10008)', method: 'QUERY', want: 'ok' },
    { name: 'the longest registered method', method: 'UPDATEREDIRECTREF', want: 'ok' },
    { name: 'a method with a hyphen', method: 'VERSION-CONTROL', want: 'ok' },
    { name: 'a lower-case method', method: 'get', want: '501 method-unknown' },
    { name: 'a mixed-case method', method: 'Get', want: '501 method-unknown' },
    { name: 'a method not in the registry', method: 'GETX', want: '501 method-unknown' },
    { name: 'the reserved name *', method: '*', want: '501 method-unknown' },
    { name: 'a method of 33 bytes', method: 'A'.repeat(33), want: '501 method-too-long' },
    { name: 'a method of 8,000 bytes', method: 'A'.repeat(8000), want: '501 method-too-long' },
    { name: 'a method that is not a token', method: 'GE(T', want: '400 method-invalid' },
  ];
  for (const c of cases) {
    test(`methods: ${c.name} → ${c.want}`, () => {
      for (const piece of [0, 1, 7]) {
        const got = outcome(undefined, line(c.method), piece).replace(/^ok .*/, 'ok');
        assert.equal(got, c.want, `${c.name} in ${piece || 'whole'}-byte pieces: want ${c.want}, got ${got}`);
      }
    });
  }
  test('methods: an extension method is forwarded once the limits list it, and only in its own case', () => {
    const limits = http1Limits({ methods: methodSet(['PURGE']) });
    assert.equal(outcome(limits, line('PURGE'), 0).split(' ')[0], 'ok');
    assert.equal(outcome(limits, line('purge'), 0), '501 method-unknown');
    assert.equal(outcome(undefined, line('PURGE'), 0), '501 method-unknown', 'want PURGE refused by default');
  });
  test('methods: limits from a source apply from the next message on a kept-alive connection', () => {
    let current = http1Limits();
    let reads = 0;
    const r = recorder(() => {
      reads++;
      return current;
    });
    feed(r, line('GET'));
    current = http1Limits({ methods: methodSet(['PURGE']) });
    feed(r, line('PURGE'));
    assert.deepEqual(r.errors, [], 'want PURGE allowed once the source gives the new limits');
    assert.deepEqual(r.events, ['head GET /', 'end', 'head PURGE /', 'end']);
    assert.equal(reads, 3, 'want the source read once at the start and once after each message');
  });
  test('methods: maxMethodBytes is the cap, at the limit and one over', () => {
    const limits = http1Limits({ maxMethodBytes: 17, methods: methodSet(['A'.repeat(17), 'B'.repeat(18)]) });
    assert.equal(outcome(limits, line('A'.repeat(17)), 0).split(' ')[0], 'ok');
    assert.equal(outcome(limits, line('B'.repeat(18)), 0), '501 method-too-long');
  });
  test('methods: the refusal names the method (cut short), the fix, and the case hint', () => {
    const message = (method: string) => {
      const r = recorder();
      feed(r, line(method));
      return r.errors[0]?.message ?? '';
    };
    assert.equal(
      message('get'),
      'method "get" is not in the IANA HTTP Method Registry (methods are case-sensitive: did you mean "GET"?); list it in MeshConfig http.extensionMethods to allow it',
    );
    assert.match(
      message('GETX'),
      /^method "GETX" is not in the IANA HTTP Method Registry; list it in MeshConfig/,
    );
    assert.equal(
      message('A'.repeat(8000)),
      `method "${'A'.repeat(32)}" is longer than 32 bytes; raise MeshConfig http.maxMethodLength to allow it`,
    );
  });
});
