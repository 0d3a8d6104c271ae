// SPIFFE IDs as Istio writes them for a workload's service account.

/** `spiffe://cluster.local/ns/default/sa/bookinfo-reviews` */
export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
