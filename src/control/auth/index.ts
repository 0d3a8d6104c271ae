// Public face of API authentication: bearer tokens and who they stand for.

export { ADMIN_TOKEN_FILE, ApiTokens, type Principal } from './api-tokens.ts';
export { ADMIN_SPIFFE_PATH, principalOfCertificate } from './client-certificate.ts';
