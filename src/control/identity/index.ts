// The control plane's side of workload identity: join tokens (the mesh CA itself is src/identity).

export {
  type CreateTokenRequest,
  DEFAULT_TOKEN_TTL_MS,
  JoinTokens,
  type JoinTokensOptions,
  MAX_LIVE_TOKENS,
  MAX_TOKEN_TTL_MS,
  type RefusalReason,
  type TokenInfo,
  type TokenState,
} from './join-tokens.ts';
