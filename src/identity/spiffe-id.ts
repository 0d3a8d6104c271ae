// SPIFFE IDs of workloads as Istio writes them: spiffe://<trust-domain>/ns/<namespace>/sa/<account>.

import { AlderError, ErrorCode } from '../config/core.ts';

export interface WorkloadIdentity {
  namespace: string;
  serviceAccount: string;
}

export interface SpiffeId extends WorkloadIdentity {
  trustDomain: string;
}

// DNS-1123 labels for namespaces; service-account names are DNS-1123 subdomains.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const WORKLOAD_ID = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** Throws ALDER_REQUEST_INVALID when a namespace or service account is not a valid name. */
export function checkWorkloadIdentity(id: WorkloadIdentity): void {
  if (!NAMESPACE.test(id.namespace)) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `namespace ${JSON.stringify(id.namespace)} is not a valid name`,
      { hint: 'use lower-case letters, digits and -, at most 63 characters' },
    );
  }
  if (!SERVICE_ACCOUNT.test(id.serviceAccount)) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `service account ${JSON.stringify(id.serviceAccount)} is not a valid name`,
      { hint: 'use lower-case letters, digits, - and ., at most 253 characters' },
    );
  }
}

/** `spiffe://cluster.local/ns/default/sa/bookinfo-reviews` */
export function workloadSpiffeId(trustDomain: string, id: WorkloadIdentity): string {
  if (!TRUST_DOMAIN.test(trustDomain)) {
    throw new AlderError(
      ErrorCode.RequestInvalid,
      `trust domain ${JSON.stringify(trustDomain)} is not valid`,
      {
        hint: 'a trust domain is lower-case letters, digits, ., - and _, e.g. cluster.local',
      },
    );
  }
  checkWorkloadIdentity(id);
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The parts of a workload SPIFFE ID, or undefined when `uri` is not one. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = WORKLOAD_ID.exec(uri);
  if (m === null) return undefined;
  const [trustDomain, namespace, serviceAccount] = [m[1], m[2], m[3]] as [string, string, string];
  if (!TRUST_DOMAIN.test(trustDomain) || !NAMESPACE.test(namespace) || !SERVICE_ACCOUNT.test(serviceAccount))
    return undefined;
  return { trustDomain, namespace, serviceAccount };
}
