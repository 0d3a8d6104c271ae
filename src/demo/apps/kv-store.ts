// The demo's key-value store: a subset of Redis over plain TCP (RESP2 arrays and inline commands) —
// PING, GET, SET, DEL, EXISTS, INCR, KEYS, QUIT — so ratings (and redis-cli) can read star values.
// Every buffer is bounded; bad input gets `-ERR …`, and a protocol error closes the connection.
// Run: node src/demo/apps/kv-store.ts (PORT, default 6379; ALDER_APP_ADDRESS, default 127.0.0.1).

import { createServer, type Socket } from 'node:net';
import { exitOnFatalError, listen, type Part, stopOnSignal } from './app-server.ts';
import { errorMessage, logLine } from './log.ts';
import { parseValue, type RespLimits, RespProtocolError, reply } from './resp.ts';

const NAME = 'kv-store';
exitOnFatalError(NAME);
const MAX_KEYS = 10_000;
const MAX_KEY_BYTES = 1024;
const MAX_VALUE_BYTES = 64 * 1024;
/** Unparsed bytes a connection may hold: one command, or a pipeline of them, at most. */
const MAX_COMMAND_BYTES = 128 * 1024;
const MAX_CONNECTIONS = 256;
const IDLE_TIMEOUT_MS = 5 * 60_000;
const LIMITS: RespLimits = {
  maxBulkBytes: MAX_VALUE_BYTES,
  maxArrayItems: 1024,
  maxLineBytes: 64 * 1024,
  maxDepth: 1,
};

const SEED: Record<string, string> = { 'ratings:0:reviewer1': '5', 'ratings:0:reviewer2': '4' };

/** Keys are held as latin1 strings, so any bytes round-trip. */
const store = new Map<string, Buffer>(Object.entries(SEED).map(([k, v]) => [k, Buffer.from(v)]));

type Reply = string | Buffer;

/** Runs one command; `quit` says to close the connection after the reply. */
function execute(args: Buffer[]): { out: Reply[]; quit?: boolean } {
  const name = (args[0] as Buffer).toString('latin1').toLowerCase();
  const arity = ARITY[name];
  if (arity === undefined) return { out: [reply.error(unknownCommand(args))] };
  if (args.length < arity.min || args.length > arity.max) {
    return { out: [reply.error(`ERR wrong number of arguments for '${name}' command`)] };
  }
  const keys = args.slice(1).map((a) => a.toString('latin1'));
  if (
    name !== 'ping' &&
    name !== 'keys' &&
    keys.some((k) => Buffer.byteLength(k, 'latin1') > MAX_KEY_BYTES)
  ) {
    return { out: [reply.error(`ERR key longer than ${MAX_KEY_BYTES} bytes`)] };
  }
  switch (name) {
    case 'ping':
      return { out: [args[1] === undefined ? reply.simple('PONG') : reply.bulk(args[1])] };
    case 'get': {
      const value = store.get(keys[0] as string);
      return { out: [value === undefined ? reply.nil : reply.bulk(value)] };
    }
    case 'set':
      return { out: [set(keys[0] as string, Buffer.from(args[2] as Buffer))] };
    case 'del':
      return { out: [reply.integer(keys.filter((k) => store.delete(k)).length)] };
    case 'exists':
      return { out: [reply.integer(keys.filter((k) => store.has(k)).length)] };
    case 'incr':
      return { out: [incr(keys[0] as string)] };
    case 'keys': {
      const pattern = globToRegExp(keys[0] as string);
      const found = [...store.keys()].filter((k) => pattern.test(k));
      return {
        out: [reply.arrayHeader(found.length), ...found.map((k) => reply.bulk(Buffer.from(k, 'latin1')))],
      };
    }
    case 'command': // redis-cli asks for command docs when it starts interactively
      return { out: [reply.arrayHeader(0)] };
    case 'quit':
      return { out: [reply.ok], quit: true };
    default:
      return { out: [reply.error(unknownCommand(args))] };
  }
}

const ARITY: Record<string, { min: number; max: number }> = {
  ping: { min: 1, max: 2 },
  get: { min: 2, max: 2 },
  set: { min: 3, max: 3 },
  del: { min: 2, max: Infinity },
  exists: { min: 2, max: Infinity },
  incr: { min: 2, max: 2 },
  keys: { min: 2, max: 2 },
  command: { min: 1, max: Infinity },
  quit: { min: 1, max: 1 },
};

function set(key: string, value: Buffer): string {
  if (!store.has(key) && store.size >= MAX_KEYS)
    return reply.error(`ERR the store holds its maximum of ${MAX_KEYS} keys`);
  store.set(key, value);
  return reply.ok;
}

function incr(key: string): string {
  const text = store.get(key)?.toString('latin1') ?? '0';
  if (!/^-?\d{1,19}$/.test(text)) return reply.error('ERR value is not an integer or out of range');
  const next = BigInt(text) + 1n;
  if (next > 2n ** 63n - 1n || next < -(2n ** 63n))
    return reply.error('ERR increment or decrement would overflow');
  const stored = set(key, Buffer.from(next.toString()));
  return stored === reply.ok ? `:${next}\r\n` : stored;
}

function unknownCommand(args: Buffer[]): string {
  const name = (args[0] as Buffer).toString('latin1').slice(0, 64);
  const rest = args
    .slice(1, 4)
    .map((a) => `'${a.toString('latin1').slice(0, 64)}'`)
    .join(' ');
  return `ERR unknown command '${name}', with args beginning with: ${rest}`;
}

/** Redis glob patterns, the part KEYS needs: `*`, `?`, `\x`; other characters match themselves. */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i] as string);
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The next command in `buf` at `start`: a RESP array of bulk strings, or an inline line. */
function nextCommand(buf: Buffer, start: number): { args: Buffer[]; end: number } | undefined {
  if (buf[start] === 0x2a /* '*' */) {
    const parsed = parseValue(buf, start, LIMITS);
    if (parsed === undefined) return undefined;
    const items = parsed.value;
    if (!Array.isArray(items) || !items.every((i) => Buffer.isBuffer(i))) {
      throw new RespProtocolError("expected '$' for each argument");
    }
    return { args: items as Buffer[], end: parsed.end };
  }
  const lf = buf.indexOf(0x0a, start);
  if (lf === -1) {
    if (buf.length - start > LIMITS.maxLineBytes) throw new RespProtocolError('too big inline request');
    return undefined;
  }
  const line = buf.toString('latin1', start, lf).replace(/\r$/, '');
  const words = line.split(/[ \t]+/).filter((w) => w !== '');
  return { args: words.map((w) => Buffer.from(w, 'latin1')), end: lf + 1 };
}

const sockets = new Set<Socket>();

function serve(socket: Socket): void {
  sockets.add(socket);
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.end());
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => socket.resume());
  let pending: Buffer = Buffer.alloc(0);
  let isClosing = false;
  const send = (out: Reply[]) => {
    let isFlushed = true;
    for (const piece of out) isFlushed = socket.write(piece);
    if (!isFlushed) socket.pause(); // resumed on 'drain'
  };
  socket.on('data', (chunk: Buffer) => {
    if (isClosing) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    try {
      for (;;) {
        if (at >= pending.length) break;
        const command = nextCommand(pending, at);
        if (command === undefined) break;
        at = command.end;
        if (command.args.length === 0) continue; // an empty inline line
        const result = execute(command.args);
        send(result.out);
        if (result.quit) {
          isClosing = true;
          socket.end();
          return;
        }
      }
      pending = pending.subarray(at);
      if (pending.length > MAX_COMMAND_BYTES)
        throw new RespProtocolError(`command over ${MAX_COMMAND_BYTES} bytes`);
    } catch (e) {
      if (!(e instanceof RespProtocolError))
        logLine(NAME, 'error', 'command failed', { error: errorMessage(e) });
      isClosing = true;
      socket.end(reply.error(`ERR Protocol error: ${errorMessage(e)}`));
    }
  });
}

const server = createServer(serve);
server.maxConnections = MAX_CONNECTIONS;
await listen(server, NAME, 6379);

const connections: Part = {
  drain: async () => {
    server.close();
    if (sockets.size === 0) return;
    const closed = [...sockets].map((s) => new Promise((resolve) => s.once('close', resolve)));
    for (const s of sockets) s.end();
    await Promise.all(closed);
  },
  destroy: () => {
    for (const s of sockets) s.destroy();
  },
};
stopOnSignal(NAME, [connections]);
