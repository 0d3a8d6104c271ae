// Join tokens: short-lived secrets that let a proxy obtain exactly one workload identity. Stored
// hashed in their own SQLite file (`<dataDir>/tokens.db`, WAL); the join endpoint calls consume().
// Who may create tokens is the API's business.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { AlderError, ErrorCode } from '../../config/index.ts';
import {
  checkWorkloadIdentity,
  formatJoinToken,
  parseJoinToken,
  type WorkloadIdentity,
} from '../../identity/index.ts';

export const DEFAULT_TOKEN_TTL_MS = 3_600_000;
/** Bootstrap secrets should not live long: a week at most (kubeadm's default is a day). */
export const MAX_TOKEN_TTL_MS = 7 * 24 * 3_600_000;
export const MAX_TOKEN_USES = 1_000_000;
export const MAX_LIVE_TOKENS = 10_000;
/** Rows kept in all, live and dead; dead ones (expired, used up, revoked) go oldest first. */
const MAX_ROWS = 2 * MAX_LIVE_TOKENS;
/** Dead tokens stay listed this long, so `alder token ls` shows what just expired or was revoked. */
const KEEP_DEAD_MS = 24 * 3_600_000;

export type TokenState = 'active' | 'expired' | 'used-up' | 'revoked';
export type RefusalReason = 'unknown' | 'expired' | 'used-up' | 'revoked' | 'wrong-identity';

export interface TokenInfo extends WorkloadIdentity {
  id: string;
  createdAt: string;
  expiresAt: string;
  /** Uses granted at creation; null for unlimited within the TTL. */
  uses: number | null;
  usesLeft: number | null;
  revokedAt: string | null;
  state: TokenState;
}

export interface CreateTokenRequest extends WorkloadIdentity {
  /** Default 1 h, at most 7 days. */
  ttlMs?: number;
  /** Default: unlimited within the TTL (as kubeadm's tokens); 1 for a one-shot token. */
  uses?: number;
}

export interface JoinTokensOptions {
  /** `<dataDir>/tokens.db` */
  path: string;
  /** `sha256:<hex>` of the CA's current root, written into every token. */
  caFingerprint: () => string;
  now?: () => number;
  maxLiveTokens?: number;
}

interface Row {
  id: string;
  secret_sha256: Uint8Array;
  namespace: string;
  service_account: string;
  created_at: number;
  expires_at: number;
  uses: number | null;
  uses_left: number | null;
  revoked_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  secret_sha256 BLOB NOT NULL,
  namespace TEXT NOT NULL,
  service_account TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  uses INTEGER,
  uses_left INTEGER,
  revoked_at INTEGER
) STRICT;
`;
const LIVE = '(revoked_at IS NULL AND expires_at > ? AND (uses_left IS NULL OR uses_left > 0))';

export class JoinTokens {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #fingerprint: () => string;
  readonly #maxLive: number;

  constructor(options: JoinTokensOptions) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 1000;');
    this.#db.exec(SCHEMA);
    this.#now = options.now ?? Date.now;
    this.#fingerprint = options.caFingerprint;
    this.#maxLive = options.maxLiveTokens ?? MAX_LIVE_TOKENS;
  }

  /** Makes a token; the returned text is the only copy of its secret. */
  create(request: CreateTokenRequest): { token: string; info: TokenInfo } {
    checkWorkloadIdentity(request);
    const ttlMs = request.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    if (!Number.isFinite(ttlMs) || ttlMs < 1000 || ttlMs > MAX_TOKEN_TTL_MS) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `token ttl must be between 1s and 168h, got ${ttlMs} ms`,
        {
          hint: 'give --ttl as a duration such as 30m or 24h',
        },
      );
    }
    const uses = request.uses ?? null;
    if (uses !== null && (!Number.isInteger(uses) || uses < 1 || uses > MAX_TOKEN_USES)) {
      throw new AlderError(
        ErrorCode.RequestInvalid,
        `token uses must be a whole number from 1 to ${MAX_TOKEN_USES}, got ${uses}`,
        {
          hint: 'leave --uses out for unlimited uses within the ttl',
        },
      );
    }
    const now = this.#now();
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.#transaction(() => {
      this.#prune(now);
      const live = this.#db.prepare(`SELECT count(*) AS n FROM tokens WHERE ${LIVE}`).get(now) as {
        n: number;
      };
      if (live.n >= this.#maxLive) {
        throw new AlderError(
          ErrorCode.TokenLimit,
          `there are already ${live.n} live join tokens, the most the control plane keeps`,
          {
            hint: 'revoke unused tokens with `alder token revoke ID`, or wait for some to expire',
          },
        );
      }
      this.#db
        .prepare('INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)')
        .run(id, hash(secret), request.namespace, request.serviceAccount, now, now + ttlMs, uses, uses);
    });
    return {
      token: formatJoinToken(id, secret, this.#fingerprint()),
      info: this.#info(this.#row(id) as Row, now),
    };
  }

  /**
   * Spends one use of a token for `wanted`, atomically. Throws ALDER_TOKEN_INVALID for malformed
   * text and ALDER_TOKEN_REFUSED with `details.reason` (unknown, expired, used-up, revoked,
   * wrong-identity) otherwise; a refused token loses no use.
   */
  consume(tokenText: string, wanted: WorkloadIdentity): TokenInfo {
    return this.#use(tokenText, wanted, true);
  }

  /**
   * Checks that a token would grant `wanted` now, without spending a use: a join that writes config
   * for the workload (`alder run` making its Service) checks first, then consumes.
   */
  check(tokenText: string, wanted: WorkloadIdentity): TokenInfo {
    return this.#use(tokenText, wanted, false);
  }

  #use(tokenText: string, wanted: WorkloadIdentity, isSpent: boolean): TokenInfo {
    const parsed = parseJoinToken(tokenText);
    const now = this.#now();
    return this.#transaction(() => {
      const row = this.#row(parsed.id);
      if (row === undefined || !timingSafeEqual(hash(parsed.secret), Buffer.from(row.secret_sha256))) {
        throw refused(
          'unknown',
          'join token is not known to this control plane',
          'create one with `alder token create`',
        );
      }
      if (row.revoked_at !== null)
        throw refused('revoked', `join token ${row.id} was revoked`, 'create a new token');
      if (row.expires_at <= now) {
        throw refused(
          'expired',
          `join token ${row.id} expired at ${iso(row.expires_at)}`,
          'create a new token, with a longer --ttl if needed',
        );
      }
      if (row.uses_left !== null && row.uses_left <= 0) {
        throw refused(
          'used-up',
          `join token ${row.id} has been used ${row.uses === 1 ? 'once' : `${row.uses} times`}, all it allows`,
          'create a new token, with more --uses if needed',
        );
      }
      if (row.namespace !== wanted.namespace || row.service_account !== wanted.serviceAccount) {
        throw refused(
          'wrong-identity',
          `join token ${row.id} grants ${row.namespace}/${row.service_account}, not ${wanted.namespace}/${wanted.serviceAccount}`,
          'use a token created for this namespace and service account',
        );
      }
      if (isSpent && row.uses_left !== null)
        this.#db.prepare('UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ?').run(row.id);
      return this.#info(this.#row(row.id) as Row, now);
    });
  }

  /** Revokes a token by id; throws ALDER_NOT_FOUND when there is none. Revoking twice is harmless. */
  revoke(id: string): TokenInfo {
    const now = this.#now();
    this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
    const row = this.#row(id);
    if (row === undefined) {
      throw new AlderError(ErrorCode.NotFound, `no join token with id ${JSON.stringify(id)}`, {
        hint: 'list tokens with `alder token ls`',
      });
    }
    return this.#info(row, now);
  }

  /** Every token kept, newest first; never the secrets. */
  list(): TokenInfo[] {
    const now = this.#now();
    const rows = this.#db
      .prepare('SELECT * FROM tokens ORDER BY created_at DESC, id')
      .all() as unknown as Row[];
    return rows.map((r) => this.#info(r, now));
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #row(id: string): Row | undefined {
    return this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
  }

  #prune(now: number): void {
    const cutoff = now - KEEP_DEAD_MS;
    this.#db
      .prepare(
        'DELETE FROM tokens WHERE expires_at < ? OR revoked_at < ? OR (uses_left = 0 AND created_at < ?)',
      )
      .run(cutoff, cutoff, cutoff);
    const { n } = this.#db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number };
    if (n >= MAX_ROWS) {
      this.#db
        .prepare(
          `DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE NOT ${LIVE} ORDER BY created_at LIMIT ?)`,
        )
        .run(now, n - MAX_ROWS + 1);
    }
  }

  #transaction<T>(body: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #info(row: Row, now: number): TokenInfo {
    const state: TokenState =
      row.revoked_at !== null
        ? 'revoked'
        : row.expires_at <= now
          ? 'expired'
          : row.uses_left !== null && row.uses_left <= 0
            ? 'used-up'
            : 'active';
    return {
      id: row.id,
      namespace: row.namespace,
      serviceAccount: row.service_account,
      createdAt: iso(row.created_at),
      expiresAt: iso(row.expires_at),
      uses: row.uses,
      usesLeft: row.uses_left,
      revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
      state,
    };
  }
}

function hash(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function refused(reason: RefusalReason, message: string, hint: string): AlderError {
  return new AlderError(ErrorCode.TokenRefused, `join refused: ${message}`, { hint, details: { reason } });
}
