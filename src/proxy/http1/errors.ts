// The table of every reason the HTTP/1 codec rejects a message for: a stable code (the proxy logs and
// counts rejections by it), the status to answer with, and a plain-words message. Parsers report a
// rejection through `onError`; they never throw on bad input, and build no stack traces.

/** Stable rejection reasons. Codes are a contract: dashboards and alerts match on them. */
export const REJECTIONS = {
  // request line / status line
  'request-line-whitespace': [400, 'extra, leading or trailing space or tab in the request line'],
  'request-line-invalid': [400, 'request line is not "method SP target SP version"'],
  'request-line-too-long': [400, 'request line is over the limit before the target starts'],
  'method-invalid': [400, 'method is not a token'],
  'method-unknown': [501, 'method is not registered (IANA) nor listed in MeshConfig http.extensionMethods'],
  'method-too-long': [501, 'method is longer than MeshConfig http.maxMethodLength'],
  'target-invalid': [400, 'request target holds a byte that is not allowed (space, control, non-ASCII, #)'],
  'target-form': [400, 'request target form does not suit the method'],
  'target-pct': [400, 'malformed percent-encoding in the request path'],
  'target-userinfo': [400, 'userinfo (user@) in an absolute-form or authority-form target'],
  'target-too-long': [414, 'request target is over the request line limit'],
  'version-invalid': [400, 'malformed HTTP version'],
  'version-unsupported': [505, 'HTTP version other than 1.0 or 1.1'],
  http09: [400, 'HTTP/0.9 request line (no version)'],
  'status-line-invalid': [502, 'malformed status line'],
  'status-line-too-long': [502, 'status line is over the limit'],
  // line endings and header fields
  'bare-lf': [400, 'line ending is LF without CR'],
  'bare-cr': [400, 'CR not followed by LF'],
  'leading-whitespace': [400, 'whitespace between the start line and the first header field'],
  'obs-fold': [400, 'obsolete line folding (a field line starting with space or tab)'],
  'space-before-colon': [400, 'whitespace between a header name and the colon'],
  'header-name-empty': [400, 'header field line starts with a colon'],
  'header-name-invalid': [400, 'header name holds a byte that is not a token character'],
  'header-colon-missing': [400, 'header field line has no colon'],
  'header-name-underscore': [
    400,
    'header name holds an underscore (apps may read it as a hyphen); MeshConfig http.headersWithUnderscoresAction can drop or allow such names',
  ],
  'header-name-lookalike': [400, 'header name spells a framing header with underscores'],
  'header-value-invalid': [400, 'header value holds a control byte (NUL, VT, FF, DEL, ...)'],
  'header-line-too-long': [431, 'a header field line is over the limit'],
  'header-section-too-large': [431, 'the header section is over the limit'],
  'too-many-headers': [431, 'more header fields than the limit'],
  // framing
  'cl-and-te': [400, 'both Content-Length and Transfer-Encoding'],
  'cl-repeated': [400, 'more than one Content-Length field line'],
  'cl-invalid': [400, 'Content-Length is not a plain decimal number'],
  'cl-overflow': [400, 'Content-Length is beyond 2^53-1'],
  'te-repeated': [400, 'more than one Transfer-Encoding field line'],
  'te-invalid': [400, 'Transfer-Encoding is not a list of plain codings'],
  'te-not-chunked': [400, 'chunked is not the final transfer coding'],
  'te-chunked-repeated': [400, 'chunked applied more than once'],
  'te-unsupported': [501, 'a transfer coding other than chunked'],
  'te-http10': [400, 'Transfer-Encoding in an HTTP/1.0 message'],
  'framing-forbidden': [502, 'Content-Length or Transfer-Encoding where the status forbids a body'],
  'body-too-large': [413, 'body is over the limit'],
  'connect-body': [400, 'CONNECT request with a body'],
  // chunked body
  'chunk-size-invalid': [400, 'chunk size is not bare hex digits'],
  'chunk-size-overflow': [400, 'chunk size is beyond 2^53-1'],
  'chunk-ext-invalid': [400, 'chunk extension does not follow ;name[=token|quoted-string]'],
  'chunk-ext-too-long': [400, 'chunk extensions are over the limit'],
  'chunk-data-crlf': [400, 'chunk data not followed by CRLF'],
  'trailer-forbidden': [400, 'a trailer field that must not appear in trailers (framing, routing, auth)'],
  // semantics
  'host-missing': [400, 'HTTP/1.1 request without Host'],
  'host-repeated': [400, 'more than one Host field line'],
  'host-empty': [400, 'empty Host'],
  'host-invalid': [400, 'Host is not host[:port]'],
  'host-mismatch': [400, 'Host disagrees with the authority in the request target'],
  'connection-invalid': [400, 'Connection is not a list of tokens'],
  'connection-framing': [400, 'Connection names Content-Length, Transfer-Encoding or Host'],
  'upgrade-invalid': [400, 'Upgrade is not a list of protocols'],
  'expect-unsupported': [417, 'Expect other than a single 100-continue'],
  'incomplete-message': [400, 'connection ended inside a message'],
} as const satisfies Record<string, readonly [number, string]>;

export type RejectReason = keyof typeof REJECTIONS;

/** What `onError` receives. After it the parser is dead: answer `status` (if nothing was sent) and close. */
export interface Http1Rejection {
  /** Status to answer with; response parsers report 502 for every reason (the upstream was wrong). */
  readonly status: number;
  readonly reason: RejectReason;
  /** True when `onHead` was already called for this message: abort the upstream request too. */
  readonly isAfterHead: boolean;
  readonly message: string;
}

/** `detail` replaces the table's message when the reason needs the request's own words (a method). */
export function rejection(
  reason: RejectReason,
  isAfterHead: boolean,
  isResponse: boolean,
  detail?: string,
): Http1Rejection {
  const [status, message] = REJECTIONS[reason];
  return { status: isResponse ? 502 : status, reason, isAfterHead, message: detail ?? message };
}
