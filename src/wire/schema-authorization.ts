// The schema of the authorization policies a snapshot carries (authorization.ts).

import { schema as s } from '../config/core.ts';
import { AUTHZ_OPERATION_FIELDS, AUTHZ_SOURCE_FIELDS } from './authorization.ts';
import { name } from './schema-common.ts';

const values = s.arr(s.str({ minLength: 1 }));
const fields = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, values]));

const rule = s.obj(
  {
    from: s.arr(s.obj(fields(AUTHZ_SOURCE_FIELDS))),
    to: s.arr(s.obj(fields(AUTHZ_OPERATION_FIELDS))),
    when: s.arr(
      s.obj({ key: name, values: s.arr(s.str()), notValues: s.arr(s.str()) }, { required: ['key'] }),
    ),
  },
  { required: ['from', 'to', 'when'] },
);

export const authorizationPolicies = s.arr(
  s.obj(
    {
      name,
      action: s.str({ enum: ['ALLOW', 'DENY', 'AUDIT'] as const }),
      dryRun: s.bool(),
      rules: s.arr(rule),
    },
    { required: ['name', 'action', 'dryRun', 'rules'] },
  ),
);
