// RESP2, the Redis protocol, for the demo's kv store and its client: a parser for one value at a time
// from a growing buffer (bounded by RespLimits; a violation throws RespProtocolError, after which the
// connection is closed), and encoders for replies and commands.

/** An error reply (`-ERR …`): a value, not a thrown error. */
export class RespErrorReply {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** Simple strings arrive as string, bulk strings as Buffer, nil as null. */
export type RespValue = string | number | Buffer | null | RespErrorReply | RespValue[];

export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

export interface RespLimits {
  /** Longest bulk string. */
  maxBulkBytes: number;
  /** Most items in an array. */
  maxArrayItems: number;
  /** Longest line (a simple string, an error, a length) before its CRLF. */
  maxLineBytes: number;
  /** Deepest nesting of arrays. */
  maxDepth: number;
}

export interface Parsed {
  value: RespValue;
  /** Offset just past the value. */
  end: number;
}

const CR = 13;
const LF = 10;

/** Parses one value starting at `start`; undefined while the buffer holds only part of it. */
export function parseValue(buf: Buffer, start: number, limits: RespLimits, depth = 0): Parsed | undefined {
  const line = readLine(buf, start + 1, limits);
  if (line === undefined) return undefined;
  const type = String.fromCharCode(buf[start] as number);
  switch (type) {
    case '+':
      return { value: line.text, end: line.end };
    case '-':
      return { value: new RespErrorReply(line.text), end: line.end };
    case ':':
      return { value: parseInteger(line.text, 'integer'), end: line.end };
    case '$':
      return parseBulk(buf, line, limits);
    case '*':
      return parseArray(buf, line, limits, depth);
    default:
      throw new RespProtocolError(`expected one of '+-:$*', got ${JSON.stringify(type)}`);
  }
}

function readLine(buf: Buffer, from: number, limits: RespLimits): { text: string; end: number } | undefined {
  const lf = buf.indexOf(LF, from);
  if (lf === -1) {
    if (buf.length - from > limits.maxLineBytes) throw new RespProtocolError('line too long');
    return undefined;
  }
  if (lf - from > limits.maxLineBytes + 1) throw new RespProtocolError('line too long');
  if (buf[lf - 1] !== CR) throw new RespProtocolError('line not ended by CRLF');
  return { text: buf.toString('latin1', from, lf - 1), end: lf + 1 };
}

function parseInteger(text: string, what: string): number {
  if (!/^-?\d{1,18}$/.test(text)) throw new RespProtocolError(`invalid ${what} ${JSON.stringify(text)}`);
  return Number(text);
}

function parseBulk(buf: Buffer, line: { text: string; end: number }, limits: RespLimits): Parsed | undefined {
  const length = parseInteger(line.text, 'bulk length');
  if (length === -1) return { value: null, end: line.end };
  if (length < 0 || length > limits.maxBulkBytes) throw new RespProtocolError('invalid bulk length');
  const end = line.end + length + 2;
  if (buf.length < end) return undefined;
  if (buf[end - 2] !== CR || buf[end - 1] !== LF)
    throw new RespProtocolError('bulk string not ended by CRLF');
  return { value: buf.subarray(line.end, end - 2), end };
}

function parseArray(
  buf: Buffer,
  line: { text: string; end: number },
  limits: RespLimits,
  depth: number,
): Parsed | undefined {
  const count = parseInteger(line.text, 'multibulk length');
  if (count === -1) return { value: null, end: line.end };
  if (count < 0 || count > limits.maxArrayItems) throw new RespProtocolError('invalid multibulk length');
  if (depth >= limits.maxDepth) throw new RespProtocolError('arrays nested too deep');
  const items: RespValue[] = [];
  let at = line.end;
  for (let i = 0; i < count; i++) {
    if (at >= buf.length) return undefined;
    const item = parseValue(buf, at, limits, depth + 1);
    if (item === undefined) return undefined;
    items.push(item.value);
    at = item.end;
  }
  return { value: items, end: at };
}

export const reply = {
  ok: '+OK\r\n',
  nil: '$-1\r\n',
  simple: (text: string) => `+${text}\r\n`,
  /** `message` starts with its prefix: `ERR …`, `WRONGTYPE …`. */
  error: (message: string) => `-${message.replace(/[\r\n]+/g, ' ')}\r\n`,
  integer: (n: number) => `:${n}\r\n`,
  bulk: (data: Buffer) => Buffer.concat([Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n')]),
  arrayHeader: (count: number) => `*${count}\r\n`,
} as const;

/** A command as the array of bulk strings a client sends. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) parts.push(reply.bulk(typeof arg === 'string' ? Buffer.from(arg) : arg));
  return Buffer.concat(parts);
}
