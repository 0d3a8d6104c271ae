// Header operations of a VirtualService HTTP route and of each weighted destination: `request` and
// `response`, each with set, add and remove (Istio's Headers and HeaderOperations). Names and values
// are checked as Istio's ValidateHTTPHeader*OperationName and ValidateHTTPHeaderValue do.

import { arr, type Infer, obj, record, type Schema, str } from '../schema.ts';
import { headerValueProblem } from './header-value.ts';

/** `:authority` or `host`, which rewrite the authority. */
export function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ':authority' || lower === 'host';
}

/**
 * A header name an operation may touch. Requests may set or add the authority (`:authority` or
 * `host`) but no other pseudo-header; removals and response operations may touch neither.
 */
function headerName(options: { mayRewriteAuthority: boolean }): Schema<string> {
  const expected = 'a header name';
  return {
    expected,
    check(value, c) {
      const name = String(value);
      if (name === '') {
        c.error('header name must not be empty');
        return false;
      }
      if (options.mayRewriteAuthority && isAuthorityHeader(name)) return true;
      if (name.toLowerCase() === 'host') {
        c.error(
          'cannot change the Host header here: rewrite the authority with request set or rewrite.authority',
        );
        return false;
      }
      if (name.startsWith(':')) {
        c.error(
          `header name must not start with ":" (pseudo-headers cannot be changed), got ${JSON.stringify(name)}`,
        );
        return false;
      }
      return true;
    },
  };
}

const headerValue = str({
  refine: (v, c) => {
    const problem = headerValueProblem(v);
    if (problem !== undefined) c.error(`header value ${problem}`);
  },
});

function operations(mayRewriteAuthority: boolean) {
  const name = headerName({ mayRewriteAuthority });
  const removeName = headerName({ mayRewriteAuthority: false });
  return obj(
    {
      set: record(headerValue, { key: name }),
      add: record(headerValue, { key: name }),
      remove: arr(
        str({
          refine: (v, c) => void removeName.check(v, c),
        }),
      ),
    },
    { name: 'header operations (set, add, remove)' },
  );
}

export const headers = obj(
  { request: operations(true), response: operations(false) },
  { name: 'header operations for request and response' },
);

export type Headers = Infer<typeof headers>;
export type HeaderOperations = NonNullable<Headers['request']>;
