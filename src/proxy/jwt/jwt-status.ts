// Why a token was refused, in Envoy's words: the status names of its JWT library (the reason label of
// alder_proxy_jwt_rejected_total) and the text its jwt_authn filter answers with. A token whose
// audience is not allowed gets 403, every other failure 401, as Envoy answers them.

export const JwtStatus = {
  JwtBadFormat: 'Jwt is not in the form of Header.Payload.Signature',
  JwtHeaderParseError: 'Jwt header is an invalid Base64url input or an invalid JSON',
  JwtHeaderNotImplementedAlg: 'Jwt header [alg] field value is invalid',
  JwtPayloadParseError: 'Jwt payload is an invalid Base64 or an invalid JSON',
  JwtUnknownIssuer: 'Jwt issuer is not configured',
  JwtExpired: 'Jwt is expired',
  JwtNotYetValid: 'Jwt not yet valid',
  JwtAudienceNotAllowed: 'Audiences in Jwt are not allowed',
  JwtVerificationFail: 'Jwt verification fails',
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksFetchFail: 'Jwks remote fetch is failed',
} as const;
export type JwtStatusName = keyof typeof JwtStatus;

/** The status code Envoy answers a refused token with. */
export function httpStatusOf(status: JwtStatusName): 401 | 403 {
  return status === 'JwtAudienceNotAllowed' ? 403 : 401;
}
