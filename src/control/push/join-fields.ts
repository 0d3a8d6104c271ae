// What a join request says, field by field: the joining workload's address, labels and app address,
// the `run` of `alder run`, and the body's strings. Each field that is wrong is refused with its name.

import { isIP } from 'node:net';
import type { WorkloadJoin } from '../../compile/index.ts';
import { AlderError, ErrorCode } from '../../config/index.ts';
import type { RunRegistration } from '../../wire/index.ts';

/** The joining workload's address (default: where the request comes from), labels and app address. */
export function memberOf(
  body: Record<string, unknown>,
  peerAddress: string | undefined,
): WorkloadJoin & { address: string; labels: Record<string, string> } {
  const address = body.address === undefined ? unmapped(peerAddress ?? '') : stringField(body, 'address');
  if (isIP(address) === 0) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `address must be an IP address, got ${JSON.stringify(address)}`,
    );
  }
  const appAddress = body.appAddress === undefined ? undefined : stringField(body, 'appAddress');
  if (appAddress !== undefined && isIP(appAddress) === 0) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `appAddress must be an IP address, got ${JSON.stringify(appAddress)}`,
    );
  }
  return {
    address,
    labels: labelsField(body.labels),
    ...(appAddress === undefined ? {} : { appAddress }),
  };
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_RUN_PORTS = 32;

/** The `run` object of a join, checked field by field. */
export function runField(value: unknown): RunRegistration {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(ErrorCode.RequestInvalid, 'run must be an object');
  }
  const v = value as Record<string, unknown>;
  const text = (field: string, optional = false): string | undefined => {
    const t = v[field];
    if (t === undefined && optional) return undefined;
    if (typeof t !== 'string' || !LABEL.test(t) || t.length > 63) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `run.${field} must be a DNS label (lowercase letters, digits and '-'), got ${JSON.stringify(t)}`,
      );
    }
    return t;
  };
  const ports = v.ports ?? [];
  if (!Array.isArray(ports) || ports.length > MAX_RUN_PORTS) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `run.ports must be a list of at most ${MAX_RUN_PORTS} ports`,
    );
  }
  const seen = new Set<number>();
  const checked = ports.map((p: unknown, i) => {
    const port = p as { name?: unknown; port?: unknown };
    if (typeof port?.name !== 'string' || !LABEL.test(port.name) || port.name.length > 15) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `run.ports[${i}].name must be a port name such as http-web`,
      );
    }
    if (typeof port.port !== 'number' || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
      throw new AlderError(ErrorCode.RequestInvalid, `run.ports[${i}].port must be a port number`);
    }
    if (seen.has(port.port))
      throw new AlderError(ErrorCode.RequestInvalid, `run.ports: port ${port.port} twice`);
    seen.add(port.port);
    return { name: port.name, port: port.port };
  });
  const version = text('version', true);
  return {
    namespace: text('namespace') as string,
    service: text('service') as string,
    serviceAccount: text('serviceAccount') as string,
    ...(version === undefined ? {} : { version }),
    ports: checked,
  };
}

/** An IPv4 peer as Node shows it on a dual-stack socket (`::ffff:10.0.0.1`) is 10.0.0.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function labelsField(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(ErrorCode.RequestInvalid, 'labels must be an object of strings');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new AlderError(ErrorCode.RequestInvalid, `label ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

export function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AlderError(ErrorCode.RequestInvalid, 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AlderError(ErrorCode.RequestInvalid, 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '')
    throw new AlderError(ErrorCode.RequestInvalid, `${field} is required`);
  return v;
}
