// metadata of every object: name and namespace syntax, labels and annotations, and the fields the
// store owns. Kubernetes bookkeeping found in exported manifests is accepted and ignored.

import type { NameRule } from './kind-info.ts';
import { checkLabelKey, checkLabelValue, isDns1123Label, isDns1123Subdomain } from './names.ts';
import { int, obj, opaque, record, type Schema, str } from './schema.ts';

/** Label maps (metadata.labels, selectors): keys and values checked as Kubernetes does. */
export const labelMap: Schema<Record<string, string>> = record(
  str({ refine: (v, c) => void checkLabelValue(v, c) }),
  { key: { expected: 'a label key', check: (k: unknown, c) => checkLabelKey(String(k), c) } },
);

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function nameSchema(rule: NameRule): Schema<string> {
  return str({
    refine: (v, c) => {
      if (rule === 'dns1123-label') {
        if (!isDns1123Label(v)) {
          c.error(
            `must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', no dots), got ${JSON.stringify(v)}`,
          );
        }
      } else if (rule === 'dns1035-label') {
        if (v.length > 63 || !DNS1035_LABEL.test(v)) {
          c.error(
            `must be a DNS-1035 label (at most 63 lowercase letters, digits and '-', starting with a letter), got ${JSON.stringify(v)}`,
          );
        }
      } else if (!isDns1123Subdomain(v)) {
        c.error(
          `must be a lowercase DNS-1123 subdomain (letters, digits, '-' and '.', at most 253 characters), got ${JSON.stringify(v)}`,
        );
      }
    },
  });
}

const namespaceSchema = str({
  refine: (v, c) => {
    if (!isDns1123Label(v)) {
      c.error(
        `must be a DNS-1123 label (at most 63 lowercase letters, digits and '-'), got ${JSON.stringify(v)}`,
      );
    }
  },
});

const annotations = record(str(), {
  key: { expected: 'an annotation key', check: (k: unknown, c) => checkLabelKey(String(k), c) },
});

function metadataSchema(rule: NameRule) {
  return obj(
    {
      name: nameSchema(rule),
      namespace: namespaceSchema,
      labels: labelMap,
      annotations,
      resourceVersion: str(),
      uid: str(),
      generation: int({ min: 0 }),
      creationTimestamp: opaque(),
      // Kubernetes bookkeeping that exported manifests carry; Alder ignores it.
      ownerReferences: opaque(),
      finalizers: opaque(),
      managedFields: opaque(),
      deletionTimestamp: opaque(),
      deletionGracePeriodSeconds: opaque(),
      selfLink: opaque(),
      generateName: str({
        refine: (_v, c) => c.error('is not supported: set metadata.name, since an apply must be repeatable'),
      }),
    },
    { required: ['name'], name: 'an object with name, namespace and labels' },
  );
}

export const metadataSchemas: Record<NameRule, ReturnType<typeof metadataSchema>> = {
  'dns1123-subdomain': metadataSchema('dns1123-subdomain'),
  'dns1123-label': metadataSchema('dns1123-label'),
  'dns1035-label': metadataSchema('dns1035-label'),
};
