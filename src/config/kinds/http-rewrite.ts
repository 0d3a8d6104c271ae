// Istio's HTTPRewrite (a VirtualService route's `rewrite`), checked as validateHTTPRewrite does: a
// path rewrite (uri or uriRegexRewrite, not both) and/or an authority rewrite.

import { type Infer, obj, str } from '../schema.ts';
import { checkIstioRegex } from './http-string-match.ts';

const regexRewrite = obj(
  {
    match: str({ refine: (v, c) => void (v !== '' && checkIstioRegex(v, c)) }),
    rewrite: str(),
  },
  {
    name: 'a regex rewrite (match, rewrite)',
    refine: (v, c) => {
      if (!v.match) c.error('is required', 'match');
      if (!v.rewrite) c.error('is required', 'rewrite');
    },
  },
);

export const httpRewrite = obj(
  { uri: str(), authority: str(), uriRegexRewrite: regexRewrite },
  {
    name: 'a rewrite',
    refine: (v, c) => {
      if (v.uri && v.uriRegexRewrite !== undefined) {
        c.error('only one of uri, uriRegexRewrite may be set, got uri and uriRegexRewrite');
      } else if (!v.uri && v.uriRegexRewrite === undefined && !v.authority) {
        c.error('must set at least one of uri, uriRegexRewrite, authority');
      }
    },
  },
);

export type HTTPRewrite = Infer<typeof httpRewrite>;
