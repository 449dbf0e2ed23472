/**
 * e2e/service-account-token.ts: the stand-in for the kubelet's projected token, and the trust-policy
 * check the end-to-end run makes with the token the pod presented to STS.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { webIdentityTrustPolicy, type PolicyDocument } from "../infra/iam-documents";
import { decodeToken, encodeToken, podTokenClaims, trustPolicyRejections } from "../e2e/service-account-token";

const ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/ABC123";
const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC123";
const POLICY = webIdentityTrustPolicy({
  oidcProviderArn: PROVIDER,
  oidcIssuerUrl: ISSUER,
  namespace: "apps",
  serviceAccount: "sqs-consumer",
});

function claims(overrides: Partial<Parameters<typeof podTokenClaims>[0]> = {}) {
  return podTokenClaims({
    issuer: ISSUER,
    namespace: "apps",
    serviceAccount: "sqs-consumer",
    audience: "sts.amazonaws.com",
    expirationSeconds: 86_400,
    now: 1_700_000_000_000,
    ...overrides,
  });
}

void describe("the projected service account token stand-in", () => {
  void it("carries the pod's service account as subject, the volume's audience and lifetime, and round-trips as a JWT", () => {
    const token = encodeToken(claims());
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(decodeToken(token), {
      iss: ISSUER,
      sub: "system:serviceaccount:apps:sqs-consumer",
      aud: ["sts.amazonaws.com"],
      iat: 1_700_000_000,
      exp: 1_700_086_400,
    });
    assert.throws(() => decodeToken("not-a-jwt"), /no payload/);
  });
});

void describe("the trust policy check", () => {
  void it("admits the token of the service account and audience the role names", () => {
    assert.deepEqual(trustPolicyRejections(POLICY, claims()), []);
  });

  void it("rejects another service account, namespace, audience or cluster, naming the mismatch", () => {
    assert.match(
      trustPolicyRejections(POLICY, claims({ serviceAccount: "default" })).join(),
      /:sub is system:serviceaccount:apps:default, the policy wants system:serviceaccount:apps:sqs-consumer/,
    );
    assert.match(
      trustPolicyRejections(POLICY, claims({ namespace: "other" })).join(),
      /:sub is system:serviceaccount:other:sqs-consumer/,
    );
    assert.match(
      trustPolicyRejections(POLICY, claims({ audience: "kubernetes.default.svc" })).join(),
      /:aud is kubernetes.default.svc, the policy wants sts.amazonaws.com/,
    );
    const otherCluster = trustPolicyRejections(
      POLICY,
      claims({ issuer: "https://oidc.eks.us-west-2.amazonaws.com/id/OTHER" }),
    ).join();
    assert.match(otherCluster, /is not the OIDC provider of oidc.eks.us-west-2.amazonaws.com\/id\/OTHER/);
    assert.match(
      otherCluster,
      /condition StringEquals oidc.eks.us-west-2.amazonaws.com\/id\/ABC123:sub is not modelled/,
      "keys of another issuer are not silently skipped",
    );
  });

  void it("reports conditions it does not evaluate instead of passing them, and a policy with nothing to allow", () => {
    const statement = POLICY.Statement[0]!;
    const wildcard: PolicyDocument = {
      ...POLICY,
      Statement: [
        {
          ...statement,
          Condition: {
            StringLike: { "oidc.eks.us-west-2.amazonaws.com/id/ABC123:sub": "system:serviceaccount:apps:*" },
          },
        },
      ],
    };
    assert.match(trustPolicyRejections(wildcard, claims()).join(), /condition StringLike .*:sub is not modelled/);
    const denyOnly: PolicyDocument = { ...POLICY, Statement: [{ ...statement, Effect: "Deny" }] };
    assert.deepEqual(trustPolicyRejections(denyOnly, claims()), ["no statement allows sts:AssumeRoleWithWebIdentity"]);
  });
});
