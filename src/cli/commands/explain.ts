// `alder explain URL`: how one workload's proxy routes a request, and why. Asks a running proxy
// (--admin, its /explain), or compiles a config folder for the calling workload (--config --from)
// and explains with the same code the proxy runs; both print formatRequestExplanation. With --as,
// it explains authorization instead: whether the callee's AuthorizationPolicies let a caller's
// request in (--admin of the callee's proxy, its /explain/authz; or --config --to the callee).

import { AlderError, ErrorCode, isAlderError } from '../../config/index.ts';
import {
  type AuthzExplanation,
  explainInboundSnapshot,
  explainSnapshot,
  formatAuthzExplanation,
  formatRequestExplanation,
  type InboundExplainInput,
} from '../../proxy/explain.ts';
import type { ExplainInput, RequestExplanation } from '../../proxy/index.ts';
import { ADMIN_HELP, adminGet, adminUrl } from '../admin-client.ts';
import type { Command } from '../command.ts';
import type { CliIo } from '../io.ts';
import { compileFolder } from '../local-snapshots.ts';
import { outputFormat, parseCommandArgs, usageError } from '../usage.ts';

export const explain: Command = {
  name: 'explain',
  help: `Explain how a workload's proxy routes one request: the virtual host, the route that matches and
why, its destinations with their DestinationRule policy and endpoints, and why every other route
did not match. Exits 0 once explained (also when the answer is "no route": 404 or 502, flag NR).

Usage:
  alder explain [--admin HOST:PORT] [-X METHOD] [-H 'NAME: VALUE' ...] [-o json] URL
  alder explain --config DIR --from NAMESPACE/WORKLOAD [-X METHOD] [-H 'NAME: VALUE' ...] [-o json] URL
  alder explain --as PRINCIPAL|plaintext [--admin HOST:PORT | --config DIR --to NS/WORKLOAD]
                [--source-ip IP] [--jwt-claims JSON] [-X METHOD] [-H 'NAME: VALUE' ...] [-o json] URL

  URL is what the app asks for: http://reviews:9080/api?x=1 (the authority picks the virtual host).

Options:
${ADMIN_HELP}
                       the running proxy explains with its snapshot and live endpoint health
  --config DIR         compile this folder of Istio YAML here instead, as \`alder proxy --config\` does
  --from NS/WORKLOAD   with --config: the WorkloadEntry whose proxy sends the request
  -X, --request METHOD the method (default GET)
  -H, --header 'N: V'  a request header; repeat for more
  --route-table NAME   the route table (default outbound, the one HTTP_PROXY traffic uses)
  -o, --output json    the explanation as JSON

Authorization (--as): would the callee's AuthorizationPolicies let this request in, and which
policy and rule decide (for a denial by no ALLOW rule, the one that came closest and what it needs).
  --as PRINCIPAL       the caller: cluster.local/ns/NS/sa/ACCOUNT (or spiffe://…), or plaintext
  --admin HOST:PORT    the callee's proxy admin port (a node proxy's: …/workloads/NS/NAME)
  --to NS/WORKLOAD     with --config: the WorkloadEntry of the callee
  --source-ip IP       the caller's address, for ipBlocks and source.ip (default 127.0.0.1)
  --jwt-claims JSON    the claims of the request's JWT, taken as verified, for requestPrincipals
                       and request.auth.*: '{"iss":"https://issuer.example","sub":"alice"}'

Examples:
  alder explain --config mesh/ --from shop/productpage -H 'end-user: jason' http://reviews:9080/
  alder explain --config mesh/ --to shop/details-v1 --as cluster.local/ns/shop/sa/reviews http://details:9080/details/0
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'explain',
      argv,
      {
        admin: { type: 'string' },
        config: { type: 'string' },
        from: { type: 'string' },
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        'route-table': { type: 'string' },
        output: { type: 'string', short: 'o' },
        as: { type: 'string' },
        to: { type: 'string' },
        'source-ip': { type: 'string' },
        'jwt-claims': { type: 'string' },
      },
      1,
    );
    const format = outputFormat(values.output, ['json'] as const, 'explain');
    if (values.as !== undefined || values.to !== undefined || values['jwt-claims'] !== undefined) {
      const e = await explainAuthorization(values, positionals[0], io);
      io.out(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : formatAuthzExplanation(e));
      return 0;
    }
    const input = requestOf({
      url: positionals[0],
      method: values.request,
      headers: values.header ?? [],
      routeTable: values['route-table'],
    });
    let explanation: RequestExplanation;
    if (values.config !== undefined) {
      if (values.admin !== undefined) throw usageError('use --admin or --config, not both', 'explain');
      if (values.from === undefined)
        throw usageError(
          '--config needs --from NAMESPACE/WORKLOAD: the workload that sends the request',
          'explain',
        );
      explanation = await explainLocally(values.config, values.from, input, io);
    } else {
      if (values.from !== undefined)
        throw usageError('--from goes with --config; with --admin the proxy is the sender', 'explain');
      explanation = await explainRemotely(adminUrl(values.admin, 'explain'), input);
    }
    io.out(
      format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatRequestExplanation(explanation),
    );
    return 0;
  },
};

/** `--as`: whether the callee's policies let the request in, from its admin port or a compiled folder. */
async function explainAuthorization(
  values: {
    as?: string | undefined;
    to?: string | undefined;
    admin?: string | undefined;
    config?: string | undefined;
    from?: string | undefined;
    request?: string | undefined;
    header?: string[] | undefined;
    'source-ip'?: string | undefined;
    'jwt-claims'?: string | undefined;
  },
  url: string | undefined,
  io: CliIo,
): Promise<AuthzExplanation> {
  if (values.as === undefined)
    throw usageError(
      '--to and --jwt-claims go with --as PRINCIPAL|plaintext: the caller whose request is explained',
      'explain',
    );
  if (values.from !== undefined)
    throw usageError('--from names a sender for routing; with --as, name the callee with --to', 'explain');
  const request = requestOf({
    url,
    method: values.request,
    headers: values.header ?? [],
    routeTable: undefined,
  });
  const principal = values.as === 'plaintext' ? undefined : values.as;
  if (principal !== undefined && !/^(spiffe:\/\/)?[^/\s]+\/ns\/[^/\s]+\/sa\/[^/\s]+$/.test(principal))
    throw usageError(
      `--as must be a principal like cluster.local/ns/shop/sa/web, or plaintext; got ${JSON.stringify(values.as)}`,
      'explain',
    );
  const input: InboundExplainInput = {
    jwtClaims: claimsOf(values['jwt-claims']),
    principal,
    sourceIp: values['source-ip'],
    method: request.method,
    authority: request.authority,
    path: request.path,
    headers: request.headers,
  };
  if (values.config !== undefined) {
    if (values.admin !== undefined) throw usageError('use --admin or --config, not both', 'explain');
    if (values.to === undefined)
      throw usageError('--config with --as needs --to NAMESPACE/WORKLOAD: the workload called', 'explain');
    const snapshot = await compileFor(values.config, values.to, '--to', io, 'its policies as written there');
    return explainInboundSnapshot(snapshot, input);
  }
  if (values.to !== undefined)
    throw usageError('--to goes with --config; with --admin the proxy is the callee', 'explain');
  const q = new URLSearchParams({ method: input.method, authority: input.authority, path: input.path });
  if (principal !== undefined) q.set('from', principal);
  if (input.sourceIp !== undefined) q.set('source_ip', input.sourceIp);
  for (const [name, value] of input.headers) q.append('header', `${name}:${value}`);
  if (input.jwtClaims !== undefined) q.set('jwt_claims', JSON.stringify(input.jwtClaims));
  return adminGet<AuthzExplanation>(adminUrl(values.admin, 'explain'), `/explain/authz?${q}`);
}

/** `--jwt-claims`: a JSON object of claims. */
function claimsOf(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw usageError(`--jwt-claims must be a JSON object of claims: ${(err as Error).message}`, 'explain');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw usageError(`--jwt-claims must be a JSON object of claims, like '{"iss":"…","sub":"…"}'`, 'explain');
  return v as Record<string, unknown>;
}

function requestOf(o: {
  url: string | undefined;
  method: string | undefined;
  headers: string[];
  routeTable: string | undefined;
}): ExplainInput {
  if (o.url === undefined) throw usageError('explain needs a URL, e.g. http://reviews:9080/', 'explain');
  // Split by hand: the URL class would normalise the path its own way; the proxy applies MeshConfig
  // pathNormalization, and the explanation shows what that makes of the path.
  const m = /^(https?):\/\/([^/?#\s]+)([^#\s]*)/i.exec(o.url);
  if (m === null)
    throw usageError(`URL must be http://HOST[:PORT][/PATH], got ${JSON.stringify(o.url)}`, 'explain');
  const rest = m[3] ?? '';
  const method = o.method ?? 'GET';
  if (!/^[A-Za-z]+$/.test(method))
    throw usageError(`-X must be a method, got ${JSON.stringify(method)}`, 'explain');
  const headers = o.headers.map((h): [string, string] => {
    const colon = h.indexOf(':');
    const name = h.slice(0, colon).trim();
    if (colon === -1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw usageError(`-H must be 'NAME: VALUE', got ${JSON.stringify(h)}`, 'explain');
    return [name, h.slice(colon + 1).trim()];
  });
  return {
    method: method.toUpperCase(),
    authority: m[2] as string,
    path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`,
    scheme: (m[1] as string).toLowerCase(),
    headers,
    routeTable: o.routeTable,
  };
}

async function explainRemotely(base: string, input: ExplainInput): Promise<RequestExplanation> {
  const q = new URLSearchParams({
    method: input.method,
    authority: input.authority,
    path: input.path,
    scheme: input.scheme,
  });
  for (const [name, value] of input.headers) q.append('header', `${name}:${value}`);
  if (input.routeTable !== undefined) q.set('table', input.routeTable);
  return adminGet<RequestExplanation>(base, `/explain?${q}`);
}

async function explainLocally(
  dir: string,
  from: string,
  input: ExplainInput,
  io: CliIo,
): Promise<RequestExplanation> {
  return explainSnapshot(
    await compileFor(dir, from, '--from', io, 'no live state here, so every endpoint counts as healthy'),
    input,
  );
}

/** The snapshot of workload `name` (NAMESPACE/WORKLOAD, given as `flag`) compiled from the folder. */
async function compileFor(dir: string, name: string, flag: string, io: CliIo, note: string) {
  const workload = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(name);
  if (workload === null)
    throw usageError(
      `${flag} must be NAMESPACE/WORKLOAD, e.g. shop/productpage, got ${JSON.stringify(name)}`,
      'explain',
    );
  let snapshot: Awaited<ReturnType<typeof compileFolder>>;
  try {
    snapshot = await compileFolder({
      dir,
      workload: { namespace: workload[1] as string, name: workload[2] as string },
      tls: undefined,
      outboundProxy: null,
    });
  } catch (err) {
    if (
      isAlderError(err) &&
      err.code === ErrorCode.CompileFailed &&
      err.message.startsWith('no WorkloadEntry')
    ) {
      throw new AlderError(ErrorCode.CompileFailed, err.message, {
        hint: `${flag} names the WorkloadEntry ${flag === '--from' ? 'whose proxy sends the request' : 'of the workload called'}: add it to ${dir}, or fix the name`,
      });
    }
    if (isAlderError(err)) throw err;
    throw new AlderError(ErrorCode.ConfigInvalid, (err as Error).message, {
      hint: 'fix the config folder; `alder validate -f DIR` lists every problem',
    });
  }
  io.err(`notice: compiled ${dir} for ${name}; ${note}\n`);
  return snapshot;
}
