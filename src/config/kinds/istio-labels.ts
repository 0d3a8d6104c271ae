// Label maps as Istio's labels.Instance.Validate checks them (route `sourceLabels`): Kubernetes-style
// keys, with Istio's case-insensitive DNS prefix, and values without Kubernetes' length limit.

import { record, type Schema, str } from '../schema.ts';

const LABEL = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const KEY = new RegExp(`^(${LABEL}(?:\\.${LABEL})*/)?(${QUALIFIED_NAME})$`);
const VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

const KEY_RULE =
  "an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

const labelKey: Schema<string> = {
  expected: 'a label key',
  check(value, c) {
    const key = String(value);
    const m = KEY.exec(key);
    if (m === null || (m[1] ?? '').length - 1 > 253 || (m[2] as string).length > 63) {
      c.error(`label key must be ${KEY_RULE}, got ${JSON.stringify(key)}`);
      return false;
    }
    return true;
  },
};

const labelValue = str({
  refine: (v, c) => {
    if (!VALUE.test(v)) {
      c.error(
        `label value must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${JSON.stringify(v)}`,
      );
    }
  },
});

export const sourceLabels = record(labelValue, { key: labelKey });
