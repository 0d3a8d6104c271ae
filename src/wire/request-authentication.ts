// The JWT rules in force on a workload, as the control plane sends them: each RequestAuthentication
// rule in Istio's own shape (its field names and meaning), the policies already chosen for this
// workload by namespace, selector or target. The proxy finds, verifies and forwards tokens by them;
// it fetches a `jwksUri` itself, since the workload is what reaches the issuer.

/** A header a token is read from: `Authorization: Bearer <token>` is `{name: authorization, prefix: "Bearer "}`. */
export interface JwtHeaderLocation {
  name: string;
  /** Stripped before the token; a value without it holds no token. */
  prefix: string;
}

export interface JwtRule {
  /** `namespace/name` of the RequestAuthentication the rule is written in (logs and explanations). */
  policy: string;
  /** The `iss` a token must carry; absent: a token of any issuer (a rule with only a jwksUri). */
  issuer?: string;
  /** A token must name one of these in `aud`; empty: any audience. */
  audiences: string[];
  /** Where the proxy fetches the issuer's keys; with neither this nor `jwks`, OpenID discovery from `issuer`. */
  jwksUri?: string;
  /** The issuer's keys inline, a JSON Web Key Set as written. */
  jwks?: string;
  /** No location at all: `Authorization: Bearer` and the `access_token` query parameter (Istio's default). */
  fromHeaders: JwtHeaderLocation[];
  fromParams: string[];
  fromCookies: string[];
  /** The header that carries a verified token's payload (base64url) to the app. */
  outputPayloadToHeader?: string;
  outputClaimToHeaders: { header: string; claim: string }[];
  /** Keep the token in the request the app gets (default: removed once verified). */
  forwardOriginalToken: boolean;
  /** Claims split on spaces for authorization, besides `scope` and `permission`. */
  spaceDelimitedClaims: string[];
  /** How long one fetch of the keys may take (Istio's `timeout`, default 5 s). */
  timeoutMs: number;
}
