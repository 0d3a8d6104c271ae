// The pieces every part of the snapshot's schema uses: scalar shapes, tagged unions, "exactly one".

import { schema as s } from '../config/core.ts';

export const UINT32_MAX = 4294967295;

export const protocol = s.str({
  enum: [
    'HTTP',
    'HTTP2',
    'GRPC',
    'GRPC-Web',
    'HTTPS',
    'TLS',
    'TCP',
    'Mongo',
    'Redis',
    'MySQL',
    'UDP',
  ] as const,
});
export const traffic = s.str({ enum: ['http', 'tcp', 'detect'] as const });
export const port = s.int({ min: 0, max: 65535 });
export const servicePort = s.int({ min: 1, max: 65535 });
export const name = s.str({ minLength: 1 });
export const labels = s.record(s.str());
export const strings = s.arr(s.str());
export const percent = s.num({ min: 0, max: 100 });
export const positiveMs = s.int({ min: 1 });
export const uint32 = s.int({ min: 0, max: UINT32_MAX });
export const common = { name, address: s.str({ minLength: 1 }), port };

/**
 * One of several object shapes, chosen by the value of its `kind` field: an unknown kind is an error
 * naming the known ones, as the wire's tagged unions are read.
 */
export function tagged(
  field: string,
  shapes: Record<string, s.Schema<unknown>>,
  what: string,
): s.Schema<unknown> {
  const kinds = Object.keys(shapes);
  return {
    expected: what,
    check(value, c) {
      if (!s.isPlainObject(value)) return s.typeError(c, what, value);
      const tag = value[field];
      const shape = typeof tag === 'string' ? shapes[tag] : undefined;
      if (shape === undefined) {
        c.error(`must be one of ${kinds.join(', ')}, got ${s.describe(tag)}`, field);
        return false;
      }
      return shape.check(value, c);
    },
  };
}

/** Exactly one of `keys` set. */
export function exactlyOne<T extends object>(keys: readonly (keyof T & string)[]): s.Refine<T> {
  return (v, c) => {
    const set = keys.filter((k) => v[k] !== undefined);
    if (set.length !== 1) c.error(`must set exactly one of ${keys.join(', ')}, got ${set.length}`);
  };
}
