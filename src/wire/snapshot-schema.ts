// The whole snapshot's schema, from its parts: what decodeSnapshot checks field by field.

import { schema as s } from '../config/core.ts';
import { authorizationPolicies } from './schema-authorization.ts';
import { cluster } from './schema-clusters.ts';
import { labels, name, positiveMs } from './schema-common.ts';
import { jwtRules } from './schema-request-authentication.ts';
import { listener, routeTable } from './schema-routes.ts';
import { WIRE_VERSION } from './snapshot.ts';

// ── the snapshot ────────────────────────────────────────────────────────────────────────────────

export const snapshotSchema = s.obj(
  {
    wireVersion: s.int({ min: WIRE_VERSION, max: WIRE_VERSION }),
    version: name,
    proxy: s.obj(
      {
        namespace: name,
        workload: name,
        serviceAccount: name,
        spiffeId: name,
        address: name,
        appAddress: name,
        labels,
        locality: s.str(),
      },
      { required: ['namespace', 'workload', 'serviceAccount', 'spiffeId', 'address', 'labels', 'locality'] },
    ),
    mesh: s.obj(
      {
        trustDomain: name,
        outboundTrafficPolicy: s.str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] as const }),
        protocolDetection: s.obj(
          { enabled: s.bool(), timeoutMs: positiveMs },
          { required: ['enabled', 'timeoutMs'] },
        ),
        connectTimeoutMs: positiveMs,
        accessLog: s.obj(
          { enabled: s.bool(), encoding: s.str({ enum: ['JSON', 'TEXT'] as const }) },
          { required: ['enabled', 'encoding'] },
        ),
        http: s.obj(
          {
            headersWithUnderscoresAction: s.str({
              enum: ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'] as const,
            }),
            extensionMethods: s.arr(
              s.str({ pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, patternHint: 'an HTTP token' }),
            ),
            maxMethodBytes: s.int({ min: 1 }),
            numTrustedProxies: s.int({ min: 0 }),
          },
          {
            required: [
              'headersWithUnderscoresAction',
              'extensionMethods',
              'maxMethodBytes',
              'numTrustedProxies',
            ],
          },
        ),
        pathNormalization: s.str({
          enum: ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const,
        }),
      },
      {
        required: [
          'trustDomain',
          'outboundTrafficPolicy',
          'protocolDetection',
          'connectTimeoutMs',
          'accessLog',
          'http',
          'pathNormalization',
        ],
      },
    ),
    listeners: s.arr(listener),
    clusters: s.arr(cluster),
    routeTables: s.arr(routeTable),
    authorization: authorizationPolicies,
    requestAuthentication: jwtRules,
    tls: s.obj(
      { certFile: name, keyFile: name, caFile: name },
      { required: ['certFile', 'keyFile', 'caFile'] },
    ),
  },
  { required: ['wireVersion', 'version', 'proxy', 'mesh', 'listeners', 'clusters', 'routeTables'] },
);
