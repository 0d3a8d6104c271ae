// StringMatch as VirtualService HTTP matches and CORS origins check it (Istio's validateStringMatch
// and friends): at most one of exact, prefix, regex; an empty object means "present" for headers;
// regexes are RE2, at most 1024 characters. Used by http-match.ts and cors-policy.ts.

import { type Checker, type Infer, obj, type Schema, str } from '../schema.ts';
import { checkRe2 } from './re2.ts';

/** Envoy's RE2 program-size limit, which Istio approximates by length. */
const MAX_REGEX_LENGTH = 1024;

/** Istio's validateStringRegexp: length limit, then RE2 syntax. */
export function checkIstioRegex(re: string, c: Checker): boolean {
  if (re.length > MAX_REGEX_LENGTH) {
    c.error(`must be a regular expression of at most ${MAX_REGEX_LENGTH} characters, got ${re.length}`);
    return false;
  }
  return checkRe2(re, c);
}

export interface HttpStringMatchOptions {
  /** `prefix: ""` allowed (uri matches; Envoy accepts an empty path prefix). */
  allowEmptyPrefix?: boolean;
  /** `regex: "*"` allowed as "header present" (withoutHeaders). */
  allowStarRegex?: boolean;
  /** One of exact, prefix, regex must be set and not empty (CORS allowOrigins). */
  requireValue?: boolean;
  name?: string;
}

const fields = { exact: str(), prefix: str(), regex: str() };

export type HttpStringMatch = Infer<ReturnType<typeof httpStringMatch>>;

export function httpStringMatch(options: HttpStringMatchOptions = {}) {
  return obj(fields, {
    name: options.name ?? 'a string match',
    oneOf: [['exact', 'prefix', 'regex']],
    refine: (v, c) => {
      if (options.requireValue && !v.exact && !v.prefix && !v.regex) {
        c.error('must set one of exact, prefix, regex to a non-empty value');
        return;
      }
      if (v.prefix === '' && !options.allowEmptyPrefix) c.error('must not be empty', 'prefix');
      if (v.regex === undefined || (options.allowStarRegex && v.regex === '*')) return;
      if (v.regex === '') c.error('must not be empty', 'regex');
      else c.at('regex', () => checkIstioRegex(v.regex as string, c));
    },
  });
}

/** The common case: scheme, method, authority, header and query parameter matches. */
export const stringMatchValue: Schema<HttpStringMatch> = httpStringMatch();
