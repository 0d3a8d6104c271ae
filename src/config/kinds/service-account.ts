// Kubernetes core v1 ServiceAccount: the identity a workload runs as (its SPIFFE ID names it).
// Alder reads only metadata; the other fields of real manifests are accepted and ignored.

import type { KindInfo } from '../kind-info.ts';
import { arr, bool, obj, str } from '../schema.ts';

const objectReference = obj({
  name: str(),
  namespace: str(),
  kind: str(),
  apiVersion: str(),
  uid: str(),
  fieldPath: str(),
  resourceVersion: str(),
});

export const serviceAccount: KindInfo<undefined> = {
  kind: 'ServiceAccount',
  group: '',
  versions: ['v1'],
  plural: 'serviceaccounts',
  shortNames: ['sa'],
  namespaced: true,
  spec: undefined,
  specRequired: false,
  topLevel: {
    secrets: arr(objectReference),
    imagePullSecrets: arr(obj({ name: str() })),
    automountServiceAccountToken: bool(),
  },
};
