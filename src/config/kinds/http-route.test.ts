import { describe } from 'node:test';
import { type AcceptCase, type RefuseCase, runKindTable } from './kind-table.test-kit.ts';

/** A VirtualService for host `reviews` with one HTTP route; `route` is its YAML at the top level. */
function vs(route: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
${indent(route)}
`;
}

/** Indents a route so that its first line starts the list item. */
function indent(text: string): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const margin = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => (/^ */.exec(l) as RegExpExecArray)[0].length),
  );
  return lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l.slice(margin)}`).join('\n');
}

const ROUTE = 'route: [{destination: {host: reviews}}]';

const good: AcceptCase[] = [
  {
    name: 'matches on every field, with header presence and absence',
    yaml: vs(`
      match:
      - name: everything
        uri: {prefix: ""}
        scheme: {exact: https}
        method: {regex: "GET|HEAD"}
        authority: {prefix: reviews}
        headers:
          end-user: {exact: jason}
          x-present: {}
          ":path": {prefix: /api}
        withoutHeaders:
          x-debug: {regex: "*"}
        queryParams:
          v: {exact: "2"}
        port: 9080
        sourceLabels: {app: productpage, example.com/Tier: web}
        sourceNamespace: bookinfo
        gateways: [mesh]
        ignoreUriCase: true
        statPrefix: everything
      ${ROUTE}`),
  },
  {
    name: 'timeouts, retries, faults, mirrors and CORS together',
    yaml: vs(`
      ${ROUTE}
      timeout: 1.5s
      retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,reset,503,deadline-exceeded", backoff: 25ms}
      fault:
        delay: {fixedDelay: 7s, percentage: {value: 0.5}}
        abort: {grpcStatus: UNAVAILABLE, percentage: {value: 10}}
      mirrors:
      - destination: {host: reviews, subset: shadow, port: {number: 9080}}
        percentage: {value: 25}
      corsPolicy:
        allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.org"}]
        allowMethods: [GET, POST, "*"]
        allowHeaders: [x-custom, "*"]
        exposeHeaders: [x-trace]
        maxAge: 24h
        allowCredentials: true
        unmatchedPreflights: IGNORE`),
  },
  {
    name: 'header operations with Envoy variables and an escaped percent',
    yaml: vs(`
      ${ROUTE}
      headers:
        request:
          set: {x-client: "%DOWNSTREAM_REMOTE_ADDRESS%", host: reviews.internal}
          add: {x-discount: "100%%", x-start: "%START_TIME(%s)%"}
          remove: [x-legacy]
        response:
          set: {x-env: '%ENVIRONMENT(["POD_NAME"])%'}
          remove: [server]`),
  },
  {
    name: 'a redirect with prefixRewrite on prefix matches',
    yaml: vs(`
      match: [{uri: {prefix: /old}}, {authority: {exact: legacy.example.com}}]
      redirect: {prefixRewrite: /new, redirectCode: 308, scheme: https, derivePort: FROM_PROTOCOL_DEFAULT}`),
  },
  {
    name: 'RE2 regexes that JavaScript spells differently',
    yaml: vs(`
      match:
      - uri: {regex: '(?i)^/api\\-v[[:digit:]]+/\\Q.well-known\\E\\z'}
      - headers: {user-agent: {regex: '.*\\pL+(?P<ver>[0-9]+)'}}
      ${ROUTE}`),
  },
  {
    name: 'a direct response with a base64 body',
    yaml: vs('directResponse: {status: 503, body: {bytes: "b3ZlcmxvYWRlZA=="}}'),
  },
  {
    name: 'a regex rewrite and an authority rewrite',
    yaml: vs(`
      rewrite:
        authority: reviews.internal
        uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: '\\2/instance/\\1'}
      ${ROUTE}`),
  },
  {
    name: 'the deprecated mirrorPercent, with a warning',
    yaml: vs(`
      ${ROUTE}
      mirror: {host: reviews, subset: shadow}
      mirrorPercent: 50`),
    warning: {
      path: 'spec.http[0].mirrorPercent',
      message: /deprecated mirrorPercent: use mirrorPercentage/,
    },
  },
  {
    name: 'an abort without error type, with a warning',
    yaml: vs(`
      ${ROUTE}
      fault: {abort: {percentage: {value: 10}}}`),
    warning: { path: 'spec.http[0].fault.abort', message: /abort has no error type/ },
  },
];

const bad: RefuseCase[] = [
  {
    name: 'a weight when it is negative',
    yaml: vs('route: [{destination: {host: reviews}, weight: -1}]'),
    path: 'spec.http[0].route[0].weight',
    message: /must be between 0 and 100, got -1/,
  },
  {
    name: 'destinations when every weight is 0',
    yaml: vs(
      'route: [{destination: {host: reviews, subset: v1}}, {destination: {host: reviews, subset: v2}}]',
    ),
    path: 'spec.http[0].route',
    message: /weights must not all be 0/,
  },
  {
    name: 'a destination when it has no host',
    yaml: vs('route: [{destination: {subset: v1}}]'),
    path: 'spec.http[0].route[0].destination.host',
    message: /is required/,
  },
  {
    name: 'a destination host when it is "*"',
    yaml: vs('route: [{destination: {host: "*"}}]'),
    path: 'spec.http[0].route[0].destination.host',
    message: /must name a service, not "\*"/,
  },
  {
    name: 'a destination host when it is an IP address',
    yaml: vs('route: [{destination: {host: 10.1.2.3}}]'),
    path: 'spec.http[0].route[0].destination.host',
    message: /top-level domain is not all digits/,
  },
  {
    name: 'a subset name when it is no DNS label',
    yaml: vs('route: [{destination: {host: reviews, subset: v_1}}]'),
    path: 'spec.http[0].route[0].destination.subset',
    message: /must be a subset name .* got "v_1"/,
  },
  {
    name: 'a destination port when it has no number',
    yaml: vs('route: [{destination: {host: reviews, port: {}}}]'),
    path: 'spec.http[0].route[0].destination.port.number',
    message: /is required/,
  },
  {
    name: 'an HTTP route when it has neither route, redirect nor directResponse',
    yaml: vs('timeout: 5s'),
    path: 'spec.http[0]',
    message: /must set one of route, redirect, directResponse, delegate/,
  },
  {
    name: 'route when redirect is set too',
    yaml: vs(`${ROUTE}\nredirect: {uri: /new}`),
    path: 'spec.http[0].route',
    message: /cannot be set together with redirect/,
  },
  {
    name: 'fault when directResponse is set too',
    yaml: vs('directResponse: {status: 200}\nfault: {abort: {httpStatus: 500}}'),
    path: 'spec.http[0].fault',
    message: /cannot be set together with directResponse/,
  },
  {
    name: 'mirror when mirrors is set too',
    yaml: vs(`${ROUTE}\nmirror: {host: a}\nmirrors: [{destination: {host: b}}]`),
    path: 'spec.http[0]',
    message: /only one of mirror, mirrors may be set/,
  },
  {
    name: 'mirrorPercentage when it is above 100',
    yaml: vs(`${ROUTE}\nmirror: {host: a}\nmirrorPercentage: {value: 120}`),
    path: 'spec.http[0].mirrorPercentage.value',
    message: /must be between 0 and 100, got 120/,
  },
  {
    name: 'a timeout when it is below 1ms',
    yaml: vs(`${ROUTE}\ntimeout: 0s`),
    path: 'spec.http[0].timeout',
    message: /must be at least 1ms, got "0s"/,
  },
  {
    name: 'a timeout when it is finer than a millisecond',
    yaml: vs(`${ROUTE}\ntimeout: 1500us`),
    path: 'spec.http[0].timeout',
    message: /whole number of milliseconds/,
  },
  {
    name: 'a timeout when it does not parse',
    yaml: vs(`${ROUTE}\ntimeout: 10 seconds`),
    path: 'spec.http[0].timeout',
    message: /must be a duration/,
  },
  {
    name: 'retry settings when attempts is 0',
    yaml: vs(`${ROUTE}\nretries: {perTryTimeout: 2s}`),
    path: 'spec.http[0].retries',
    message: /retries are disabled when attempts is 0 or unset, yet perTryTimeout is set/,
  },
  {
    name: 'retryOn when it has a space after a comma',
    yaml: vs(`${ROUTE}\nretries: {attempts: 2, retryOn: "5xx, reset"}`),
    path: 'spec.http[0].retries.retryOn',
    message: /not valid: " reset"/,
  },
  {
    name: 'a fault when it has neither delay nor abort',
    yaml: vs(`${ROUTE}\nfault: {}`),
    path: 'spec.http[0].fault',
    message: /must set abort, delay or both/,
  },
  {
    name: 'an abort status when it is outside 200-600',
    yaml: vs(`${ROUTE}\nfault: {abort: {httpStatus: 700}}`),
    path: 'spec.http[0].fault.abort.httpStatus',
    message: /must be between 200 and 600, got 700/,
  },
  {
    name: 'an abort when it sets both httpStatus and grpcStatus',
    yaml: vs(`${ROUTE}\nfault: {abort: {httpStatus: 503, grpcStatus: UNAVAILABLE}}`),
    path: 'spec.http[0].fault.abort',
    message: /only one of httpStatus, grpcStatus, http2Error may be set/,
  },
  {
    name: 'a delay percentage when it is between 0 and 0.0001',
    yaml: vs(`${ROUTE}\nfault: {delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}`),
    path: 'spec.http[0].fault.delay.percentage.value',
    message: /must be 0 or at least 0.0001/,
  },
  {
    name: 'a delay when it is exponential',
    yaml: vs(`${ROUTE}\nfault: {delay: {exponentialDelay: 1s}}`),
    path: 'spec.http[0].fault.delay.exponentialDelay',
    message: /exponential delays are not supported: use fixedDelay/,
  },
  {
    name: 'a redirect when its code is not 3xx',
    yaml: vs('redirect: {uri: /new, redirectCode: 200}'),
    path: 'spec.http[0].redirect.redirectCode',
    message: /must be a 3xx status code, got 200/,
  },
  {
    name: 'a redirect when it sets nothing to redirect to',
    yaml: vs('redirect: {redirectCode: 301}'),
    path: 'spec.http[0].redirect',
    message: /must set at least one of uri, prefixRewrite, authority, scheme, port, derivePort/,
  },
  {
    name: 'a URI match when it is exact and the redirect has prefixRewrite',
    yaml: vs('match: [{uri: {exact: /old}}]\nredirect: {prefixRewrite: /new}'),
    path: 'spec.http[0].match[0].uri',
    message: /must be a prefix match, since redirect.prefixRewrite/,
  },
  {
    name: 'a rewrite when it sets both uri and uriRegexRewrite',
    yaml: vs(`${ROUTE}\nrewrite: {uri: /v2, uriRegexRewrite: {match: "^/v1", rewrite: /v2}}`),
    path: 'spec.http[0].rewrite',
    message: /only one of uri, uriRegexRewrite may be set/,
  },
  {
    name: 'a regex rewrite when it has no rewrite',
    yaml: vs(`${ROUTE}\nrewrite: {uriRegexRewrite: {match: "^/v1"}}`),
    path: 'spec.http[0].rewrite.uriRegexRewrite.rewrite',
    message: /is required/,
  },
  {
    name: 'an authority rewrite when the authority is already rewritten',
    yaml: vs(
      `${ROUTE}\nrewrite: {authority: a.example.com}\nheaders: {request: {set: {":authority": b.example.com}}}`,
    ),
    path: 'spec.http[0].headers.request.set[":authority"]',
    message: /rewrites the authority a second time \(also at rewrite.authority\)/,
  },
  {
    name: 'a direct response when its status is below 200',
    yaml: vs('directResponse: {status: 100}'),
    path: 'spec.http[0].directResponse.status',
    message: /must be between 200 and 600, got 100/,
  },
  {
    name: 'a direct response body when it sets both string and bytes',
    yaml: vs('directResponse: {status: 200, body: {string: a, bytes: YQ==}}'),
    path: 'spec.http[0].directResponse.body',
    message: /only one of string, bytes may be set/,
  },
  {
    name: 'a header operation when it sets a pseudo-header',
    yaml: vs(`${ROUTE}\nheaders: {request: {set: {":path": /other}}}`),
    path: 'spec.http[0].headers.request.set[":path"]',
    message: /header name must not start with ":"/,
  },
  {
    name: 'a response header operation when it sets Host',
    yaml: vs(`${ROUTE}\nheaders: {response: {set: {Host: example.com}}}`),
    path: 'spec.http[0].headers.response.set.Host',
    message: /cannot change the Host header here/,
  },
  {
    name: 'a header value when it ends in an unescaped %',
    yaml: vs(`${ROUTE}\nheaders: {request: {add: {x-discount: "100%"}}}`),
    path: 'spec.http[0].headers.request.add.x-discount',
    message: /unescaped "%" at the end: write "%%"/,
  },
  {
    name: 'a destination header value when a variable argument is malformed',
    yaml: vs(
      `route: [{destination: {host: reviews}, headers: {response: {set: {x-env: '%ENV(["A" "B"])%'}}}}]`,
    ),
    path: 'spec.http[0].route[0].headers.response.set.x-env',
    message: /expected ',', '\]' or a space/,
  },
  {
    name: 'a URI regex when it does not compile',
    yaml: vs(`match: [{uri: {regex: "a("}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].uri.regex',
    message: /must be a valid regular expression/,
  },
  {
    name: 'a URI regex when it is longer than 1024 characters',
    yaml: vs(`match: [{uri: {regex: "${'a'.repeat(1025)}"}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].uri.regex',
    message: /at most 1024 characters, got 1025/,
  },
  {
    name: 'a string match when it sets both exact and prefix',
    yaml: vs(`match: [{uri: {exact: /a, prefix: /b}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].uri',
    message: /only one of exact, prefix, regex may be set, got exact and prefix/,
  },
  {
    name: 'a method match when its prefix is empty',
    yaml: vs(`match: [{method: {prefix: ""}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].method.prefix',
    message: /must not be empty/,
  },
  {
    name: 'a header match when the name is no header name',
    yaml: vs(`match: [{headers: {"x user": {exact: a}}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].headers["x user"]',
    message: /must be a header name/,
  },
  {
    name: 'a match when its source namespace is no DNS label',
    yaml: vs(`match: [{sourceNamespace: "bad_ns"}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].sourceNamespace',
    message: /must be a namespace name, got "bad_ns"/,
  },
  {
    name: 'a match port when it is out of range',
    yaml: vs(`match: [{port: 70000}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].port',
    message: /must be between 0 and 65535, got 70000/,
  },
  {
    name: 'source labels when a key is invalid',
    yaml: vs(`match: [{sourceLabels: {"-app": a}}]\n${ROUTE}`),
    path: 'spec.http[0].match[0].sourceLabels["-app"]',
    message: /label key must be/,
  },
  {
    name: 'a CORS method when it is unknown',
    yaml: vs(`${ROUTE}\ncorsPolicy: {allowMethods: [FETCH]}`),
    path: 'spec.http[0].corsPolicy.allowMethods[0]',
    message: /must be an HTTP method, one of GET, .* got "FETCH"/,
  },
  {
    name: 'a CORS origin when it is empty',
    yaml: vs(`${ROUTE}\ncorsPolicy: {allowOrigins: [{exact: ""}]}`),
    path: 'spec.http[0].corsPolicy.allowOrigins[0]',
    message: /must set one of exact, prefix, regex to a non-empty value/,
  },
  {
    name: 'a CORS maxAge when it is not whole seconds',
    yaml: vs(`${ROUTE}\ncorsPolicy: {maxAge: 1500ms}`),
    path: 'spec.http[0].corsPolicy.maxAge',
    message: /must be a whole number of seconds, got "1500ms"/,
  },
  {
    name: 'a CORS header name when it is no token',
    yaml: vs(`${ROUTE}\ncorsPolicy: {allowHeaders: ["x header"]}`),
    path: 'spec.http[0].corsPolicy.allowHeaders[0]',
    message: /must be "\*" or a header name/,
  },
];

describe('VirtualService HTTP routes', () => {
  runKindTable('VirtualService', { good, bad });
});
