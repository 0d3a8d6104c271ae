// Unit tests of ResponseParser: framing by status and request method (HEAD, 1xx, 101, 204, 304, CONNECT),
// Content-Length / chunked / close-delimited bodies, keep-alive, and 502 rejections of bad upstream bytes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ResponseHead, ResponseParser } from './response-parser.ts';

interface Run {
  events: string[];
  heads: ResponseHead[];
  rest: string;
}

/** Parses `text` as responses to `method`, whole or in `piece`-byte pieces; `eof` calls finish(). */
function parse(text: string, options: { method?: string; piece?: number; eof?: boolean } = {}): Run {
  const run: Run = { events: [], heads: [], rest: '' };
  const parser = new ResponseParser({
    onHead: (head) => {
      run.heads.push(head);
      run.events.push(`head ${head.status} ${head.framing}`);
    },
    onBody: (chunk) => run.events.push(`body ${chunk.toString('latin1')}`),
    onEnd: (trailers) => run.events.push(`end${trailers ? ` ${trailers.join('|')}` : ''}`),
    onError: (e) => run.events.push(`error ${e.status} ${e.reason}`),
  });
  parser.expectResponseTo(options.method ?? 'GET');
  const raw = Buffer.from(text, 'latin1');
  const size = options.piece || raw.length;
  for (let s = 0; s < raw.length && !parser.isDead; s += size) {
    const buf = raw.subarray(s, s + size);
    let i = 0;
    while (i < buf.length && !parser.isDead) {
      i = parser.execute(buf, i);
      const last = run.heads.at(-1);
      if (last && (last.isUpgrade || last.isTunnel)) {
        run.rest = raw.subarray(s + i).toString('latin1');
        return run;
      }
    }
  }
  if (options.eof) parser.finish();
  return run;
}

function body(run: Run): string {
  return run.events
    .filter((e) => e.startsWith('body '))
    .map((e) => e.slice(5))
    .join('');
}

describe('ResponseParser framing (RFC 9112 §6.3)', () => {
  test('framing: Content-Length body, then the next response on the connection', () => {
    for (const piece of [0, 1]) {
      const run = parse(
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
        { piece },
      );
      assert.equal(body(run), 'hi');
      assert.deepEqual(
        run.events.filter((e) => !e.startsWith('body')),
        ['head 200 length', 'end', 'head 404 length', 'end'],
      );
    }
  });
  test('framing: chunked body with trailers', () => {
    const run = parse(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nGrpc-Status: 0\r\n\r\n',
    );
    assert.deepEqual(run.events, ['head 200 chunked', 'body hi', 'end grpc-status|0']);
  });
  test('framing: no length means until close, and no keep-alive', () => {
    const run = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstream of bytes', { eof: true });
    assert.deepEqual(run.events, ['head 200 close', 'body stream of bytes', 'end']);
    assert.equal(run.heads[0]?.isKeepAlive, false);
  });
  test('framing: a response to HEAD has no body despite Content-Length', () => {
    const run = parse(
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      { method: 'HEAD' },
    );
    assert.deepEqual(run.events, ['head 200 none', 'end', 'head 200 length', 'end']);
  });
  test('framing: 204 and 304 have no body', () => {
    assert.deepEqual(parse('HTTP/1.1 204 No Content\r\n\r\n').events, ['head 204 none', 'end']);
    assert.deepEqual(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n').events, [
      'head 304 none',
      'end',
    ]);
    assert.deepEqual(parse('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n').events, [
      'head 204 none',
      'end',
    ]);
  });
  test('framing: 100 Continue and 103 Early Hints come before the final response', () => {
    const run = parse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx',
    );
    assert.deepEqual(run.events, [
      'head 100 none',
      'end',
      'head 103 none',
      'end',
      'head 201 length',
      'body x',
      'end',
    ]);
    assert.deepEqual(
      run.heads.map((h) => h.isInformational),
      [true, true, false],
    );
  });
  test('framing: a 1xx keeps the HEAD context for the final response', () => {
    const run = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', {
      method: 'HEAD',
    });
    assert.deepEqual(run.events, ['head 100 none', 'end', 'head 200 none', 'end']);
  });
  test('framing: 101 Switching Protocols leaves the new protocol bytes unconsumed', () => {
    const run = parse(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello',
    );
    assert.deepEqual(run.events, ['head 101 none', 'end']);
    assert.equal(run.heads[0]?.isUpgrade, true);
    assert.equal(run.rest, '\x81\x05hello');
  });
  test('framing: 2xx to CONNECT is a tunnel, Content-Length ignored', () => {
    const run = parse('HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n\x16\x03', {
      method: 'CONNECT',
    });
    assert.equal(run.heads[0]?.isTunnel, true);
    assert.equal(run.rest, '\x16\x03');
  });
  test('framing: a non-2xx to CONNECT has a body as usual', () => {
    const run = parse('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno', {
      method: 'CONNECT',
    });
    assert.deepEqual(run.events, ['head 407 length', 'body no', 'end']);
  });
});

describe('ResponseParser status line and keep-alive', () => {
  test('status line: reason phrase may be empty or missing, obs-text allowed', () => {
    assert.equal(parse('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').heads[0]?.statusText, '');
    assert.equal(parse('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').heads[0]?.statusText, '');
    assert.equal(
      parse('HTTP/1.1 200 Tr\xe8s bien\r\nContent-Length: 0\r\n\r\n', { piece: 1 }).heads[0]?.statusText,
      'Tr\xe8s bien',
    );
  });
  test('keep-alive: HTTP/1.0 needs keep-alive, HTTP/1.1 ends on close', () => {
    const ka = (t: string) => parse(t).heads[0]?.isKeepAlive;
    assert.equal(ka('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), false);
    assert.equal(ka('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'), true);
    assert.equal(ka('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), false);
    assert.equal(ka('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), true);
  });
  const refused = [
    {
      name: 'Content-Length and chunked',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      want: 'cl-and-te',
    },
    {
      name: 'two Content-Length lines',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
      want: 'cl-repeated',
    },
    {
      name: 'gzip without chunked',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      want: 'te-not-chunked',
    },
    {
      name: 'chunked on HTTP/1.0',
      input: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      want: 'te-http10',
    },
    {
      name: '204 with a body length',
      input: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n',
      want: 'framing-forbidden',
    },
    {
      name: '100 with chunked',
      input: 'HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n',
      want: 'framing-forbidden',
    },
    { name: 'HTTP/2.0 status line', input: 'HTTP/2.0 200 OK\r\n\r\n', want: 'version-unsupported' },
    { name: 'lower-case protocol', input: 'http/1.1 200 OK\r\n\r\n', want: 'version-invalid' },
    { name: 'two-digit status', input: 'HTTP/1.1 20 OK\r\n\r\n', want: 'status-line-invalid' },
    { name: 'status 600', input: 'HTTP/1.1 600 Odd\r\n\r\n', want: 'status-line-invalid' },
    { name: 'status 099', input: 'HTTP/1.1 099 Odd\r\n\r\n', want: 'status-line-invalid' },
    { name: 'four-digit status', input: 'HTTP/1.1 2000 OK\r\n\r\n', want: 'status-line-invalid' },
    { name: 'tab after status', input: 'HTTP/1.1 200\tOK\r\n\r\n', want: 'status-line-invalid' },
    { name: 'NUL in reason', input: 'HTTP/1.1 200 O\x00K\r\n\r\n', want: 'status-line-invalid' },
    { name: 'bare LF', input: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', want: 'bare-lf' },
    { name: 'obs-fold', input: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n', want: 'obs-fold' },
    {
      name: 'Connection naming Content-Length',
      input: 'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 0\r\n\r\n',
      want: 'connection-framing',
    },
    {
      name: 'bad chunk size',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n',
      want: 'chunk-size-invalid',
    },
    {
      name: 'long status line',
      input: `HTTP/1.1 200 ${'a'.repeat(9000)}\r\n\r\n`,
      want: 'status-line-too-long',
    },
  ];
  for (const c of refused) {
    test(`refused: ${c.name} → 502 ${c.want}`, () => {
      for (const piece of [0, 1]) {
        const got = parse(c.input, { piece }).events.at(-1);
        assert.equal(
          got,
          `error 502 ${c.want}`,
          `${c.name} (piece ${piece}): want 502 ${c.want}, got ${got}`,
        );
      }
    });
  }
  test('refused: EOF inside a Content-Length body is incomplete-message', () => {
    const run = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', { eof: true });
    assert.equal(run.events.at(-1), 'error 502 incomplete-message');
  });
});
