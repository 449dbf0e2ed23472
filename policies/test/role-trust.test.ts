import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { roleTrustPinned } from "../rules/iam";
import { edit, stackViolations, withJson } from "./harness";
import {
  ACCOUNT,
  ISSUER,
  OIDC_PROVIDER_ARN,
  SUBJECT,
  goodResources,
  goodStack,
  irsaTrustPolicy,
  resource,
  roleArn,
} from "./fixtures/good-stack";

const SUB = `${ISSUER}:sub`;
const AUD = `${ISSUER}:aud`;
const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/dev`;

function trust(condition: Record<string, unknown>, action: unknown = "sts:AssumeRoleWithWebIdentity") {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Federated: OIDC_PROVIDER_ARN }, Action: action, Condition: condition }],
  };
}

/** The messages role-trust-pinned reports for the good stack with the consumer role's trust replaced. */
async function trustMessages(
  document: unknown,
  config?: Record<string, unknown>,
  extra: readonly ReturnType<typeof resource>[] = [],
): Promise<string[]> {
  const good = goodResources();
  const role = withJson(good.role, "assumeRolePolicy", document);
  return (await stackViolations(roleTrustPinned, [...Object.values({ ...good, role }), ...extra], config)).map(
    (f) => f.message,
  );
}

function podIdentityTrust(condition: Record<string, unknown>, action: unknown = ["sts:AssumeRole", "sts:TagSession"]) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: action, Condition: condition },
    ],
  };
}

const POD_IDENTITY_PINS = {
  "aws:RequestTag/kubernetes-namespace": "consumer-dev",
  "aws:RequestTag/kubernetes-service-account": "consumer",
  "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
};

describe("role-trust-pinned: web identity (IRSA)", () => {
  it("passes the program's IRSA trust and the node role's EC2 trust", async () => {
    assert.deepEqual(await stackViolations(roleTrustPinned, goodStack()), []);
  });

  it("accepts condition keys in any case and single-element lists", async () => {
    assert.deepEqual(
      await trustMessages(trust({ StringEquals: { [SUB.toUpperCase()]: [SUBJECT], [AUD]: ["sts.amazonaws.com"] } })),
      [],
    );
  });

  it("rejects a wildcard subject, StringLike, missing pins, several subjects and a wrong audience", async () => {
    assert.deepEqual(
      await trustMessages(
        trust({ StringEquals: { [SUB]: "system:serviceaccount:consumer-dev:*", [AUD]: "sts.amazonaws.com" } }),
      ),
      [
        `Role "consumer-role": statement 1: "${SUB}" is "system:serviceaccount:consumer-dev:*", not one exact "system:serviceaccount:<namespace>:<serviceaccount>".`,
      ],
    );
    assert.deepEqual(
      await trustMessages(
        trust({ StringLike: { [SUB]: "system:serviceaccount:*" }, StringEquals: { [AUD]: "sts.amazonaws.com" } }),
      ),
      [
        `Role "consumer-role": statement 1: "${SUB}" is matched with StringLike, which accepts patterns; pin it with StringEquals to "system:serviceaccount:<namespace>:<serviceaccount>".`,
      ],
    );
    assert.deepEqual(await trustMessages(trust({})), [
      `Role "consumer-role": statement 1: "${SUB}" is not pinned; add Condition StringEquals "${SUB}": "system:serviceaccount:<namespace>:<serviceaccount>".`,
      `Role "consumer-role": statement 1: "${AUD}" is not pinned; add Condition StringEquals "${AUD}": "sts.amazonaws.com".`,
    ]);
    assert.deepEqual(
      await trustMessages(
        trust({
          StringEquals: { [SUB]: [SUBJECT, "system:serviceaccount:other:sa"], [AUD]: ["sts.amazonaws.com", "x"] },
        }),
      ),
      [
        `Role "consumer-role": statement 1: "${SUB}" lists 2 values; pin exactly one.`,
        `Role "consumer-role": statement 1: "${AUD}" lists 2 values; pin exactly one.`,
      ],
    );
  });

  it("rejects actions beyond sts:AssumeRoleWithWebIdentity", async () => {
    const document = trust({ StringEquals: { [SUB]: SUBJECT, [AUD]: "sts.amazonaws.com" } }, [
      "sts:AssumeRoleWithWebIdentity",
      "sts:*",
    ]);
    assert.deepEqual(await trustMessages(document), [
      `Role "consumer-role": statement 1 lets OIDC provider ${ISSUER} use "sts:*"; allow only sts:AssumeRoleWithWebIdentity.`,
    ]);
  });

  it("checks the configured audience", async () => {
    const config = { audience: "https://example.com/irsa" };
    assert.deepEqual(await trustMessages(irsaTrustPolicy(), config), [
      `Role "consumer-role": statement 1: "${AUD}" is "sts.amazonaws.com", not one exact "https://example.com/irsa".`,
    ]);
    assert.deepEqual(
      await trustMessages(trust({ StringEquals: { [SUB]: SUBJECT, [AUD]: "https://example.com/irsa" } }), config),
      [],
    );
  });

  it("rejects a trust policy it cannot read", async () => {
    const role = edit(goodResources().role, { assumeRolePolicy: "{not json" });
    const findings = await stackViolations(roleTrustPinned, Object.values({ ...goodResources(), role }));
    assert.deepEqual(
      findings.map((f) => f.message),
      [
        `Role "consumer-role": assumeRolePolicy is not valid JSON, so who may assume it cannot be checked; pass the trust policy as a JSON document.`,
      ],
    );
  });
});

describe("role-trust-pinned: every statement counts", () => {
  const pinned = irsaTrustPolicy();
  const withStatement = (statement: Record<string, unknown>) => ({
    ...pinned,
    Statement: [...(pinned["Statement"] as unknown[]), statement],
  });

  it("rejects a second statement trusting any AWS principal (issue 13's first example)", async () => {
    assert.deepEqual(
      await trustMessages(withStatement({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" })),
      [`Role "consumer-role": statement 2 lets any principal ("*") assume the role; trust one exact principal.`],
    );
    assert.deepEqual(
      await trustMessages(withStatement({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" })),
      [`Role "consumer-role": statement 2 lets any principal ("*") assume the role; trust one exact principal.`],
    );
  });

  it("rejects NotPrincipal, an account root, another account's role and a role outside the stack", async () => {
    const messages = await trustMessages({
      Version: "2012-10-17",
      Statement: [
        ...(pinned["Statement"] as unknown[]),
        { Effect: "Allow", NotPrincipal: { AWS: roleArn("x") }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { AWS: "210987654321" }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { AWS: roleArn("somebody-else") }, Action: "sts:AssumeRole" },
      ],
    });
    assert.deepEqual(messages, [
      `Role "consumer-role": statement 2 uses NotPrincipal with Allow, which trusts every principal not listed; name the principal instead.`,
      `Role "consumer-role": statement 3 trusts AWS principal arn:aws:iam::${ACCOUNT}:root, which is not one exact role ARN (an account ID or :root trusts every identity the account allows).`,
      `Role "consumer-role": statement 4 trusts AWS principal 210987654321, which is not one exact role ARN (an account ID or :root trusts every identity the account allows).`,
      `Role "consumer-role": statement 5 trusts role ${roleArn("somebody-else")}, which is not a workload role of this stack, so who assumes it cannot be checked.`,
    ]);
  });

  it("accepts a workload role of the stack as AWS principal, with sts:AssumeRole only", async () => {
    const good = goodResources();
    const chained = resource(AWS.role, "chained", {
      name: "chained",
      arn: roleArn("chained"),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: good.role.props["arn"] }, Action: "sts:AssumeRole" }],
      }),
    });
    assert.deepEqual(
      (await stackViolations(roleTrustPinned, [...goodStack(), chained])).map((f) => f.message),
      [],
    );
    const nodeTrusted = edit(chained, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: good.nodeRole.props["arn"] }, Action: "sts:AssumeRole" }],
      }),
    });
    assert.deepEqual(
      (await stackViolations(roleTrustPinned, [...goodStack(), nodeTrusted])).map((f) => f.message),
      [
        `Role "chained": statement 1 trusts role ${String(good.nodeRole.props["arn"])}, which is not a workload role of this stack, so who assumes it cannot be checked.`,
      ],
    );
  });

  it("rejects other federations, unknown services, and roles mixing nodes and workloads", async () => {
    const messages = await trustMessages(
      withStatement({
        Effect: "Allow",
        Principal: {
          Federated: "cognito-identity.amazonaws.com",
          Service: ["lambda.amazonaws.com", "ec2.amazonaws.com"],
        },
        Action: "sts:AssumeRole",
      }),
    );
    assert.deepEqual(messages, [
      `Role "consumer-role": statement 2 trusts federated principal cognito-identity.amazonaws.com, which is not an OIDC provider of an EKS cluster.`,
      `Role "consumer-role": statement 2 trusts service lambda.amazonaws.com, which has no role purpose in this pack (see docs/POLICY.md).`,
      `Role "consumer-role": the role is trusted by workloads and by EC2 (a node role); give each purpose its own role.`,
    ]);
  });

  it("ignores Deny statements, which only take trust away", async () => {
    assert.deepEqual(await trustMessages(withStatement({ Effect: "Deny", Principal: "*", Action: "sts:*" })), []);
  });
});

describe("role-trust-pinned: EKS Pod Identity", () => {
  it("accepts a trust pinning namespace, service account and cluster", async () => {
    assert.deepEqual(await trustMessages(podIdentityTrust({ StringEquals: POD_IDENTITY_PINS })), []);
  });

  it("rejects a Pod Identity trust missing a pin, matching with StringLike, or allowing more actions", async () => {
    const { ["aws:RequestTag/eks-cluster-arn"]: _cluster, ...withoutCluster } = POD_IDENTITY_PINS;
    assert.deepEqual(await trustMessages(podIdentityTrust({ StringEquals: withoutCluster })), [
      `Role "consumer-role": statement 1: "aws:RequestTag/eks-cluster-arn" is not pinned; add Condition StringEquals "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:<region>:<account>:cluster/<name>".`,
    ]);
    const like = podIdentityTrust({
      StringEquals: { ...POD_IDENTITY_PINS, "aws:RequestTag/kubernetes-service-account": undefined },
      StringLike: { "aws:RequestTag/kubernetes-service-account": "*" },
    });
    assert.deepEqual(await trustMessages(like), [
      `Role "consumer-role": statement 1: "aws:RequestTag/kubernetes-service-account" is matched with StringLike, which accepts patterns; pin it with StringEquals to "<serviceaccount>".`,
    ]);
    assert.deepEqual(
      await trustMessages(
        podIdentityTrust({ StringEquals: POD_IDENTITY_PINS }, [
          "sts:AssumeRole",
          "sts:TagSession",
          "sts:SetSourceIdentity",
        ]),
      ),
      [
        `Role "consumer-role": statement 1 lets pods.eks.amazonaws.com use "sts:SetSourceIdentity"; allow only sts:AssumeRole, sts:TagSession.`,
      ],
    );
  });
});
