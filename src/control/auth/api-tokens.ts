// Bearer tokens for the control plane's API. The first start makes the admin token: its SHA-256 is
// kept in `<dataDir>/api-tokens.json` and the token itself is written once to `<dataDir>/admin-token`
// (0600) for the CLI on this machine. The API server asks `verify`; roles and more tokens come later.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlderError, ErrorCode } from '../../config/index.ts';
import { writeFileAtomic } from '../../identity/index.ts';

/** Who made a request: `admin` may do everything; `workload` (a proxy's certificate) nothing on the API. */
export interface Principal {
  name: string;
  kind: 'admin' | 'workload';
}

interface StoredToken {
  name: string;
  kind: Principal['kind'];
  /** Hex SHA-256 of the token text. */
  sha256: string;
  created: string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';
const TOKENS_FILE = 'api-tokens.json';
const TOKEN_PREFIX = 'alder-admin.';

export class ApiTokens {
  readonly #tokens: { principal: Principal; hash: Buffer }[];

  private constructor(tokens: StoredToken[]) {
    this.#tokens = tokens.map((t) => ({
      principal: { name: t.name, kind: t.kind },
      hash: Buffer.from(t.sha256, 'hex'),
    }));
  }

  /**
   * Reads the token hashes kept in `dataDir`; on the first start makes the admin token, writes it to
   * `<dataDir>/admin-token` (0600), then keeps its hash. Later starts leave that file alone.
   */
  static open(dataDir: string): ApiTokens {
    const path = join(dataDir, TOKENS_FILE);
    if (existsSync(path)) return new ApiTokens(readTokens(path));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    // The token file first: a crash before the hash is kept makes a new token on the next start.
    writeFileAtomic(join(dataDir, ADMIN_TOKEN_FILE), `${token}\n`, 0o600);
    const stored: StoredToken[] = [
      {
        name: 'admin',
        kind: 'admin',
        sha256: sha256(token).toString('hex'),
        created: new Date().toISOString(),
      },
    ];
    writeFileAtomic(path, `${JSON.stringify({ tokens: stored }, null, 2)}\n`, 0o600);
    return new ApiTokens(stored);
  }

  /** The principal a bearer token stands for, or undefined; every stored hash is compared in constant time. */
  verify(token: string): Principal | undefined {
    const presented = sha256(token);
    let found: Principal | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(presented, t.hash) && found === undefined) found = t.principal;
    }
    return found;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function readTokens(path: string): StoredToken[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalidFile(path, (err as Error).message);
  }
  const tokens = (parsed as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) throw invalidFile(path, 'want {"tokens":[…]}');
  return tokens.map((t: unknown, i) => {
    const s = t as Partial<StoredToken> | null;
    if (
      typeof s?.name !== 'string' ||
      (s.kind !== 'admin' && s.kind !== 'workload') ||
      typeof s.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(s.sha256)
    ) {
      throw invalidFile(path, `tokens[${i}] needs name, kind (admin) and sha256 (64 hex digits)`);
    }
    return s as StoredToken;
  });
}

function invalidFile(path: string, reason: string): AlderError {
  return new AlderError(ErrorCode.StoreUnavailable, `API tokens ${path}: cannot read: ${reason}`, {
    hint: `restore the file, or move it away to make a new admin token (written to ${ADMIN_TOKEN_FILE} beside it)`,
    details: { path },
  });
}
