// Istio's HTTPDirectResponse (a VirtualService route's `directResponse`): a fixed status and an
// optional body, checked as validateHTTPDirectResponse does (status 200-600, body under 1 MiB).

import { type Infer, obj, str } from '../schema.ts';
import { httpStatus } from './http-fault.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const body = obj(
  {
    string: str(),
    bytes: str({
      refine: (v, c) => {
        if (!BASE64.test(v)) c.error('must be base64-encoded');
      },
    }),
  },
  {
    name: 'a body (string or bytes)',
    oneOf: [['string', 'bytes']],
    refine: (v, c) => {
      const size =
        v.string !== undefined
          ? Buffer.byteLength(v.string)
          : v.bytes !== undefined
            ? Buffer.from(v.bytes, 'base64').length
            : 0;
      if (size > MIB) {
        c.error(
          `must be at most 1MiB, got ${size} bytes: large direct responses slow down the control plane`,
        );
      } else if (size > 100 * KIB) {
        c.warn(`is ${size} bytes: large direct responses slow down the control plane`);
      }
    },
  },
);

export const httpDirectResponse = obj(
  { status: httpStatus, body },
  { name: 'a direct response', required: ['status'] },
);

export type HTTPDirectResponse = Infer<typeof httpDirectResponse>;
