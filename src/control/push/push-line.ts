// A push as the line the distributor writes: as parts, so that the resources' encodings (made once
// per resource version) are shared by every proxy that gets them and are not copied into one string
// per proxy (see line-writer.ts); and the signature that tells a refused push from a changed one.

import { createHash } from 'node:crypto';
import {
  RESOURCE_TYPES,
  type ResourceDelta,
  type ResourceType,
  type TypeDelta,
  type WireResource,
  type WorkloadRef,
} from '../../wire/index.ts';
import type { PushMetrics } from './push-metrics.ts';

const encoded = new WeakMap<WireResource, string>();

function encode(r: WireResource): string {
  let text = encoded.get(r);
  if (text === undefined) {
    text = JSON.stringify(r);
    encoded.set(r, text);
  }
  return text;
}

/** The push's line as parts to be joined, counted into `metrics`; `types` are those `delta` carries. */
export function pushLine(
  p: {
    workload: WorkloadRef;
    nonce: string;
    revision: number;
    delta: ResourceDelta;
    types: readonly ResourceType[];
  },
  metrics: PushMetrics,
): string[] {
  const header = `{"push":{"workload":${JSON.stringify(p.workload)},"nonce":"${p.nonce}","revision":"${p.revision}","resources":{`;
  const line = [header];
  let lineChars = header.length;
  for (const [i, type] of p.types.entries()) {
    const d = p.delta[type] as TypeDelta;
    const open = `${i === 0 ? '' : ','}"${type}":{"upsert":[`;
    const close = `],"remove":${JSON.stringify(d.remove)}}`;
    let chars = open.length + close.length + Math.max(0, d.upsert.length - 1);
    line.push(open);
    for (const [k, r] of d.upsert.entries()) {
      const text = encode(r);
      if (k > 0) line.push(',');
      line.push(text);
      chars += text.length;
    }
    line.push(close);
    lineChars += chars;
    metrics.countPush(type, chars);
  }
  line.push('}}}\n');
  lineChars += 4;
  metrics.pushMessages++;
  metrics.pushMessageBytes += lineChars;
  return line;
}

/** Identifies the content of a delta, so that a refused push is not sent again unchanged. */
export function signatureOf(delta: ResourceDelta): string {
  const h = createHash('sha256');
  for (const type of RESOURCE_TYPES) {
    const d = delta[type] as TypeDelta | undefined;
    if (d === undefined) continue;
    for (const r of d.upsert) h.update(`${type}+${r.name}@${r.version}\n`);
    for (const n of d.remove) h.update(`${type}-${n}\n`);
  }
  return h.digest('base64url');
}
