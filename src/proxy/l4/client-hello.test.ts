import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  type ClientHelloParse,
  ClientHelloReader,
  parseClientHello,
  peekClientHello,
} from './client-hello.ts';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);

/** A server_name extension listing `names` as host_name entries (type 0 unless given). */
function serverName(names: string[], type = 0): Buffer {
  const list = Buffer.concat(
    names.map((n) => Buffer.concat([Buffer.from([type]), u16(n.length), Buffer.from(n, 'latin1')])),
  );
  return ext(0, Buffer.concat([u16(list.length), list]));
}

/** A ClientHello handshake message (header included) with the given extensions. */
function hello(
  extensions: Buffer[] | undefined,
  o: { msgType?: number; extLengthDelta?: number } = {},
): Buffer {
  const exts = extensions === undefined ? undefined : Buffer.concat(extensions);
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32),
    Buffer.from([0]), // session id
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]), // compression: null
    ...(exts === undefined ? [] : [u16(exts.length + (o.extLengthDelta ?? 0)), exts]),
  ]);
  return Buffer.concat([Buffer.from([o.msgType ?? 1]), u24(body.length), body]);
}

/** `message` in TLS handshake records of at most `size` bytes each. */
function records(message: Buffer, size = 16_384, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < message.length; at += size) {
    const part = message.subarray(at, at + size);
    out.push(Buffer.concat([Buffer.from([0x16]), u16(version), u16(part.length), part]));
  }
  return Buffer.concat(out);
}

/** The first flight of a real node:tls (OpenSSL) client, as a server would receive it. */
async function realClientHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s: Socket) => {
      const reader = new ClientHelloReader();
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        if (reader.push(d).kind !== 'incomplete') {
          resolve(Buffer.concat(chunks));
          s.destroy();
        }
      });
    });
  });
  const client = tlsConnect({
    host: '127.0.0.1',
    port,
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized: false,
  });
  client.on('error', () => undefined);
  const bytes = await got;
  client.destroy();
  server.close();
  return bytes;
}

describe('client hello: parse', () => {
  const cases: { name: string; input: Buffer; want: ClientHelloParse }[] = [
    {
      name: 'one record with an SNI',
      input: records(hello([serverName(['a.example.com'])])),
      want: { kind: 'client-hello', sni: 'a.example.com' },
    },
    {
      name: 'upper-case SNI is lower-cased',
      input: records(hello([ext(0x000a, Buffer.from([0, 2, 0, 29])), serverName(['API.Example.COM'])])),
      want: { kind: 'client-hello', sni: 'api.example.com' },
    },
    {
      name: 'a ClientHello over several records',
      input: records(hello([ext(0x0015, Buffer.alloc(300)), serverName(['b.example.com'])]), 50),
      want: { kind: 'client-hello', sni: 'b.example.com' },
    },
    {
      name: 'no extensions at all',
      input: records(hello(undefined)),
      want: { kind: 'client-hello', sni: undefined },
    },
    {
      name: 'extensions without server_name',
      input: records(hello([ext(0x002b, Buffer.from([2, 3, 4]))])),
      want: { kind: 'client-hello', sni: undefined },
    },
    {
      name: 'a compatibility ChangeCipherSpec record after the ClientHello',
      input: Buffer.concat([
        records(hello([serverName(['a.example.com'])])),
        Buffer.from([0x14, 3, 3, 0, 1, 1]),
      ]),
      want: { kind: 'client-hello', sni: 'a.example.com' },
    },
    {
      name: 'a truncated record',
      input: records(hello([serverName(['a.example.com'])])).subarray(0, 40),
      want: { kind: 'incomplete' },
    },
    { name: 'a record header alone', input: Buffer.from([0x16, 3, 1]), want: { kind: 'incomplete' } },
    { name: 'nothing yet', input: Buffer.alloc(0), want: { kind: 'incomplete' } },
    { name: 'an HTTP request', input: Buffer.from('GET / HTTP/1.1\r\n'), want: { kind: 'not-tls' } },
    {
      name: 'a record version that is not 3.x',
      input: Buffer.from([0x16, 2, 0, 0, 5]),
      want: { kind: 'not-tls' },
    },
    { name: 'an empty record', input: Buffer.from([0x16, 3, 1, 0, 0]), want: { kind: 'not-tls' } },
    {
      name: 'a record above 2^14 bytes',
      input: Buffer.from([0x16, 3, 1, 0x40, 0x01]),
      want: { kind: 'not-tls' },
    },
    {
      name: 'a handshake that is not a ClientHello',
      input: records(hello([serverName(['a.example.com'])], { msgType: 2 })),
      want: { kind: 'not-tls' },
    },
    {
      name: 'an application-data record before the ClientHello is complete',
      input: Buffer.concat([records(hello([serverName(['a.example.com'])])).subarray(0, 20)]).fill(
        0x17,
        0,
        1,
      ),
      want: { kind: 'not-tls' },
    },
    {
      name: 'extensions whose length disagrees with the message',
      input: records(hello([serverName(['a.example.com'])], { extLengthDelta: 1 })),
      want: { kind: 'not-tls' },
    },
    {
      name: 'two host names in one server_name',
      input: records(hello([serverName(['a.example.com', 'b.example.com'])])),
      want: { kind: 'not-tls' },
    },
    {
      name: 'two server_name extensions',
      input: records(hello([serverName(['a.example.com']), serverName(['b.example.com'])])),
      want: { kind: 'not-tls' },
    },
    {
      name: 'a host name with a trailing dot',
      input: records(hello([serverName(['a.example.com.'])])),
      want: { kind: 'not-tls' },
    },
    {
      name: 'a host name with a space',
      input: records(hello([serverName(['a example.com'])])),
      want: { kind: 'not-tls' },
    },
    {
      name: 'a server_name of another name type only',
      input: records(hello([serverName(['a.example.com'], 7)])),
      want: { kind: 'not-tls' },
    },
  ];
  for (const c of cases) {
    it(`client hello: ${c.name}`, () => {
      assert.deepEqual(parseClientHello(c.input), c.want, `bytes ${c.input.toString('hex').slice(0, 80)}…`);
    });
  }

  it('client hello: the same verdict when the bytes arrive one at a time', () => {
    for (const c of cases) {
      const reader = new ClientHelloReader();
      let got: ClientHelloParse = { kind: 'incomplete' };
      for (const b of c.input) got = reader.push(Buffer.from([b]));
      assert.deepEqual(got, c.want, `${c.name}: byte by byte`);
    }
  });

  it('client hello: reads the SNI of a real OpenSSL client, and its absence', async () => {
    const withSni = await realClientHello('db.example.com');
    assert.deepEqual(parseClientHello(withSni), { kind: 'client-hello', sni: 'db.example.com' });
    const without = await realClientHello(undefined);
    assert.deepEqual(parseClientHello(without), { kind: 'client-hello', sni: undefined });
  });
});

/** A connected socket pair: `client` writes, `server` is what the proxy would peek at. */
async function socketPair(): Promise<{ client: Socket; server: Socket; close(): void }> {
  const listener = createServer({ allowHalfOpen: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const [server] = await accepted;
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

/** Everything `socket` delivers until the other side ends. */
async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.resume(); // the peek leaves it paused
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

describe('client hello: peek', () => {
  it('client hello: peek finds the SNI of a ClientHello split over segments and gives every byte back', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const bytes = records(hello([ext(0x0015, Buffer.alloc(500)), serverName(['a.example.com'])]), 100);
    const peeked = peekClientHello(pair.server, { timeoutMs: 5000, maxBytes: 65_536 });
    pair.client.setNoDelay(true);
    for (let at = 0; at < bytes.length; at += 37) {
      pair.client.write(bytes.subarray(at, at + 37));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.deepEqual(await peeked, { kind: 'tls', sni: 'a.example.com' });
    pair.client.end('after');
    const all = await readAll(pair.server);
    assert.deepEqual(
      all,
      Buffer.concat([bytes, Buffer.from('after')]),
      'want the bytes untouched and in order',
    );
  });

  it('client hello: peek says not-tls at the first byte of plaintext and keeps it', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const peeked = peekClientHello(pair.server, { timeoutMs: 5000, maxBytes: 65_536 });
    pair.client.end('hello');
    assert.deepEqual(await peeked, { kind: 'not-tls' });
    assert.equal((await readAll(pair.server)).toString(), 'hello');
  });

  it('client hello: peek times out on a silent client', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    assert.deepEqual(await peekClientHello(pair.server, { timeoutMs: 50, maxBytes: 65_536 }), {
      kind: 'timeout',
    });
  });

  it('client hello: peek gives up on a ClientHello larger than the cap', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const peeked = peekClientHello(pair.server, { timeoutMs: 5000, maxBytes: 1024 });
    pair.client.write(
      records(hello([ext(0x0015, Buffer.alloc(4000)), serverName(['a.example.com'])])).subarray(0, 2000),
    );
    const got = await peeked;
    assert.equal(got.kind, 'too-large', `want too-large, got ${JSON.stringify(got)}`);
  });

  it('client hello: peek reports a client that half-closes mid-ClientHello', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const peeked = peekClientHello(pair.server, { timeoutMs: 5000, maxBytes: 65_536 });
    pair.client.end(records(hello([serverName(['a.example.com'])])).subarray(0, 30));
    assert.deepEqual(await peeked, { kind: 'closed' });
  });
});
