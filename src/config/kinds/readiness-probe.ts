// Istio's ReadinessProbe (a WorkloadGroup's `probe`): how a workload's proxy checks its app, with
// Kubernetes' fields and defaults and exactly one of httpGet, tcpSocket, exec or grpc. Ports the CRD
// rules and Istio's validateReadinessProbe; the proxy's agent runs the probe.

import { arr, describe, type Infer, int, obj, str } from '../schema.ts';

/** Kubernetes' defaults, which Istio's probe documents: applied where a field is unset or 0. */
export const PROBE_DEFAULTS = {
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

export const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;

const seconds = int({ min: 0, max: 2147483647 });
const port = int({ min: 1, max: 65535 });
const HEADER_NAME = /^[-_A-Za-z0-9]+$/;
// Characters no HTTP/1.1 field value may hold (RFC 9110 5.5): NUL, CR, LF and other controls but tab.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const BAD_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const httpHeader = obj(
  {
    name: str({ pattern: HEADER_NAME, patternHint: "a header name: letters, digits, '-' and '_'" }),
    value: str({
      refine: (v, c) => {
        if (BAD_HEADER_VALUE.test(v)) c.error(`must not hold control characters, got ${describe(v)}`);
      },
    }),
  },
  { required: ['name'], name: 'an HTTP header' },
);

const httpGet = obj(
  {
    path: str(),
    port,
    host: str(),
    scheme: str({
      refine: (v, c) => {
        if (v !== '' && v !== 'HTTP' && v !== 'HTTPS') c.error(`must be HTTP or HTTPS, got ${describe(v)}`);
      },
    }),
    httpHeaders: arr(httpHeader),
  },
  { required: ['port'], name: 'an HTTP GET check' },
);

const tcpSocket = obj({ host: str(), port }, { required: ['port'], name: 'a TCP connect check' });

const exec = obj(
  { command: arr(str({ minLength: 1 }), { minItems: 1 }) },
  { required: ['command'], name: 'a command check' },
);

const grpc = obj({ port, service: str() }, { required: ['port'], name: 'a gRPC health check' });

export const readinessProbe = obj(
  {
    initialDelaySeconds: seconds,
    timeoutSeconds: seconds,
    periodSeconds: seconds,
    successThreshold: seconds,
    failureThreshold: seconds,
    httpGet,
    tcpSocket,
    exec,
    grpc,
  },
  {
    name: 'a readiness probe',
    oneOf: [[...PROBE_HANDLERS]],
    refine: (v, c) => {
      if (PROBE_HANDLERS.every((h) => v[h] === undefined)) {
        c.error(`must set one of ${PROBE_HANDLERS.join(', ')}: how the proxy checks the app`);
      }
    },
  },
);

export type ReadinessProbe = Infer<typeof readinessProbe>;
