// gRPC on the wire for the demo's ratings call, by hand: status codes, the 5-byte message framing,
// grpc-timeout and grpc-message encodings, and just enough protobuf (int32 fields as varints) for
// GetRatings. Used by the ratings server and by reviews' client; knows nothing of sockets.

export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GRPC_STATUS)[keyof typeof GRPC_STATUS];

/** Messages past this size end a call with RESOURCE_EXHAUSTED; the demo's are a few bytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export class GrpcError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'GrpcError';
    this.code = code;
  }
}

/** One length-prefixed message (uncompressed). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * Splits a byte stream into messages, calling `onMessage` for each whole one. Throws a GrpcError for a
 * compressed message (none was negotiated) or one over `maxBytes`.
 */
export function deframer(onMessage: (m: Buffer) => void, maxBytes = MAX_MESSAGE_BYTES) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer): void => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      if (pending[0] !== 0)
        throw new GrpcError(GRPC_STATUS.INTERNAL, 'compressed message without grpc-encoding');
      const length = pending.readUInt32BE(1);
      if (length > maxBytes) {
        throw new GrpcError(GRPC_STATUS.RESOURCE_EXHAUSTED, `message of ${length} bytes is over ${maxBytes}`);
      }
      if (pending.length < 5 + length) return;
      onMessage(pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
    }
  };
}

/** A protobuf message of int32 fields, by field number; zero fields are left out, as proto3 does. */
export function encodeInt32Fields(fields: ReadonlyMap<number, number>): Buffer {
  const bytes: number[] = [];
  for (const [field, value] of fields) {
    if (value === 0) continue;
    pushVarint(bytes, BigInt(field << 3)); // wire type 0: varint
    pushVarint(bytes, BigInt.asUintN(64, BigInt(value))); // a negative int32 takes ten bytes
  }
  return Buffer.from(bytes);
}

/** The varint fields of a protobuf message, as int32 by field number; other wire types are skipped. */
export function decodeInt32Fields(buf: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  let at = 0;
  while (at < buf.length) {
    const [key, afterKey] = readVarint(buf, at);
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new GrpcError(GRPC_STATUS.INTERNAL, 'protobuf: field number 0');
    at = afterKey;
    if (wireType === 0) {
      const [value, next] = readVarint(buf, at);
      out.set(field, Number(BigInt.asIntN(32, value)));
      at = next;
    } else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const [length, next] = readVarint(buf, at);
      at = next + Number(length);
    } else throw new GrpcError(GRPC_STATUS.INTERNAL, `protobuf: unsupported wire type ${wireType}`);
    if (at > buf.length) throw new GrpcError(GRPC_STATUS.INTERNAL, 'protobuf: truncated field');
  }
  return out;
}

function pushVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function readVarint(buf: Uint8Array, start: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = buf[start + i];
    if (byte === undefined) throw new GrpcError(GRPC_STATUS.INTERNAL, 'protobuf: truncated varint');
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [value, start + i + 1];
  }
  throw new GrpcError(GRPC_STATUS.INTERNAL, 'protobuf: varint longer than ten bytes');
}

/** `grpc-timeout` for a deadline `ms` from now: at most eight digits, in milliseconds. */
export function grpcTimeout(ms: number): string {
  return `${Math.max(1, Math.min(99_999_999, Math.ceil(ms)))}m`;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** Milliseconds in a `grpc-timeout` value, or undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  if (m === null) return undefined;
  return Number(m[1]) * (TIMEOUT_UNIT_MS[m[2] as string] as number);
}

/** grpc-message is percent-encoded outside printable ASCII (and '%'). */
export function encodeGrpcMessage(message: string): string {
  return Array.from(Buffer.from(message))
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

export function decodeGrpcMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The gRPC code for an HTTP status other than 200 (gRPC's http-grpc-status-mapping.md). */
export function statusFromHttp(status: number): number {
  if (status === 400) return GRPC_STATUS.INTERNAL;
  if (status === 401) return GRPC_STATUS.UNAUTHENTICATED;
  if (status === 403) return GRPC_STATUS.PERMISSION_DENIED;
  if (status === 404) return GRPC_STATUS.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GRPC_STATUS.UNAVAILABLE;
  return GRPC_STATUS.UNKNOWN;
}
