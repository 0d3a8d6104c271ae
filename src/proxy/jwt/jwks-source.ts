// An issuer's keys fetched by the proxy from a `jwksUri` (or found by OpenID discovery from the
// issuer, as istiod does when a rule names neither), kept current in the background: refreshed every
// 20 minutes (Istio's default), fetched again when a token names a key id the set lacks (at most once
// per 30 s, since anyone can send such a token), retried with backoff after a failure while the last
// good keys stay in use. Requests never wait on a fetch but the first one: a token that arrives
// before any keys joins the fetch under way (Envoy pauses such requests until the keys come); once a
// fetch has failed with no keys to fall back on, tokens fail at once until a retry succeeds.

import { fetchJson, MAX_JWKS_BYTES } from './jwks-fetch.ts';
import { type KeySet, keySetOf } from './key-set.ts';

/** Istio's default for istiod's refresh of the keys it fetched (PILOT_JWT_PUB_KEY_REFRESH_INTERVAL). */
export const JWKS_REFRESH_MS = 20 * 60_000;
/** The least time between two fetches a token's unknown `kid` starts. */
export const KID_REFETCH_COOLDOWN_MS = 30_000;
/** After a failed fetch: the first retry comes after this, each next one twice as late, up to the max. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

export interface JwksSourceOptions {
  /** The key set's URL; undefined: discovered from `issuer`'s OpenID configuration. */
  uri: string | undefined;
  issuer: string | undefined;
  timeoutMs: number;
  /** Told of each fetch's outcome (counted and logged by the proxy). */
  onFetch: (
    outcome: { uri: string; ok: true; keys: number } | { uri: string; ok: false; reason: string },
  ) => void;
}

export class JwksSource {
  readonly #o: JwksSourceOptions;
  #keys: KeySet | undefined;
  #inFlight: Promise<KeySet | undefined> | undefined;
  #isStarted = false;
  #isStopped = false;
  #failures = 0;
  #lastKidFetchAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: JwksSourceOptions) {
    this.#o = o;
  }

  /** The keys fetched last; undefined before the first fetch succeeds. */
  get current(): KeySet | undefined {
    return this.#keys;
  }

  /** Where the keys come from, for logs. */
  get uri(): string {
    return this.#o.uri ?? `${this.#o.issuer}/.well-known/openid-configuration`;
  }

  /**
   * The keys now; before the first fetch has ended, a promise of them (the first call starts it);
   * undefined when fetching failed and no keys were ever had.
   */
  keys(): KeySet | Promise<KeySet | undefined> | undefined {
    if (this.#keys !== undefined) return this.#keys;
    if (!this.#isStarted) {
      this.#isStarted = true;
      return this.#fetch();
    }
    return this.#inFlight;
  }

  /**
   * A token named a key id the set lacks: the keys of a fetch started now (or under way), or
   * undefined when one ran within the cooldown.
   */
  refetch(): Promise<KeySet | undefined> | undefined {
    if (this.#inFlight !== undefined) return this.#inFlight;
    const now = performance.now();
    if (this.#isStopped || now - this.#lastKidFetchAt < KID_REFETCH_COOLDOWN_MS) return undefined;
    this.#lastKidFetchAt = now;
    return this.#fetch();
  }

  /** No runtime uses these keys any more: no further fetch. */
  stop(): void {
    this.#isStopped = true;
    clearTimeout(this.#timer);
  }

  #fetch(): Promise<KeySet | undefined> {
    clearTimeout(this.#timer);
    const done = this.#load().then(
      (keys) => {
        this.#keys = keys;
        this.#failures = 0;
        this.#o.onFetch({ uri: this.uri, ok: true, keys: keys.size });
        this.#schedule(JWKS_REFRESH_MS);
        return keys;
      },
      (err: unknown) => {
        this.#failures++;
        this.#o.onFetch({ uri: this.uri, ok: false, reason: (err as Error).message });
        this.#schedule(Math.min(RETRY_FIRST_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS));
        return this.#keys;
      },
    );
    this.#inFlight = done;
    void done.finally(() => {
      if (this.#inFlight === done) this.#inFlight = undefined;
    });
    return done;
  }

  async #load(): Promise<KeySet> {
    const limits = { timeoutMs: this.#o.timeoutMs, maxBytes: MAX_JWKS_BYTES };
    let uri = this.#o.uri;
    if (uri === undefined) {
      const discovery = await fetchJson(this.uri, limits);
      const found = (discovery as { jwks_uri?: unknown } | null)?.jwks_uri;
      if (typeof found !== 'string' || !/^https?:\/\//.test(found))
        throw new Error(`${this.uri}: the OpenID configuration names no http(s) jwks_uri`);
      uri = found;
    }
    const keys = keySetOf(await fetchJson(uri, limits));
    if (keys.size === 0) throw new Error(`${uri}: no usable public key in the key set`);
    return keys;
  }

  #schedule(ms: number): void {
    if (this.#isStopped) return;
    this.#timer = setTimeout(() => void this.#fetch(), ms);
    this.#timer.unref();
  }
}
