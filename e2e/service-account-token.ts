// The projected service account token a kubelet would write for a pod, and the part of IAM's
// AssumeRoleWithWebIdentity check that a trust policy's conditions make: does this token's issuer,
// subject and audience satisfy the role's trust policy? The token is JWT-shaped but unsigned: the STS
// stand-in compares it with the mounted file's content instead of verifying a signature.
import type { PolicyDocument } from "../infra/iam-documents";

/** The claims of a Kubernetes service account token that IRSA relies on. */
export interface TokenClaims {
  /** The cluster's OIDC issuer URL. */
  readonly iss: string;
  /** system:serviceaccount:<namespace>:<name> */
  readonly sub: string;
  readonly aud: readonly string[];
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

/** The claims the kubelet asks the API server for: this pod's service account, the volume's audience and lifetime. */
export function podTokenClaims(options: {
  readonly issuer: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audience: string;
  readonly expirationSeconds: number;
  readonly now?: number;
}): TokenClaims {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return {
    iss: options.issuer,
    sub: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
    aud: [options.audience],
    iat,
    exp: iat + options.expirationSeconds,
  };
}

const base64url = (value: object | string): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** header.payload.signature, with a signature that says it is not one. */
export function encodeToken(claims: TokenClaims): string {
  return `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims)}.${base64url("unsigned-e2e-token")}`;
}

export function decodeToken(token: string): TokenClaims {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error("not a JWT: no payload");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
}

/**
 * Why IAM would refuse AssumeRoleWithWebIdentity with this token under this trust policy; empty when
 * one statement admits it. A statement admits the token when it allows the action to the token
 * issuer's OIDC provider and each of its StringEquals conditions on `<issuer>:<claim>` matches the
 * claim. Any other condition is reported as not modelled rather than assumed to pass.
 */
export function trustPolicyRejections(policy: PolicyDocument, claims: TokenClaims): string[] {
  const issuer = claims.iss.replace(/^https:\/\//, "").replace(/\/+$/, "");
  const rejections: string[] = [];
  for (const statement of policy.Statement) {
    const reasons: string[] = [];
    const actions = typeof statement.Action === "string" ? [statement.Action] : statement.Action;
    if (statement.Effect !== "Allow" || !actions.includes("sts:AssumeRoleWithWebIdentity")) continue;
    const principal = statement.Principal;
    const federated = typeof principal === "object" && "Federated" in principal ? principal.Federated : undefined;
    if (federated === undefined || !federated.endsWith(`:oidc-provider/${issuer}`)) {
      reasons.push(`principal ${JSON.stringify(principal)} is not the OIDC provider of ${issuer}`);
    }
    for (const [operator, conditions] of Object.entries(statement.Condition ?? {})) {
      for (const [key, expected] of Object.entries(conditions)) {
        const claim = key.startsWith(`${issuer}:`) ? key.slice(issuer.length + 1) : undefined;
        if (operator !== "StringEquals" || (claim !== "sub" && claim !== "aud")) {
          reasons.push(`condition ${operator} ${key} is not modelled`);
          continue;
        }
        const actual = claim === "sub" ? [claims.sub] : claims.aud;
        const allowed = typeof expected === "string" ? [expected] : expected;
        if (!actual.some((value) => allowed.includes(value)))
          reasons.push(`${key} is ${actual.join(",")}, the policy wants ${allowed.join(",")}`);
      }
    }
    if (reasons.length === 0) return [];
    rejections.push(`${statement.Sid}: ${reasons.join("; ")}`);
  }
  return rejections.length > 0 ? rejections : ["no statement allows sts:AssumeRoleWithWebIdentity"];
}
