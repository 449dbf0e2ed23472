import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { AWS } from "../lib/types";
import { roleTrustPinned } from "../rules/iam";
import { edit, stackViolations, withJson } from "./harness";
import {
  ACCOUNT,
  ISSUER,
  NAMESPACE,
  OIDC_PROVIDER_ARN,
  SERVICE_ACCOUNT,
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
  "aws:RequestTag/kubernetes-namespace": NAMESPACE,
  "aws:RequestTag/kubernetes-service-account": SERVICE_ACCOUNT,
  "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
};

/** The tags EKS sets on a session for the consumer's pod. */
const EKS_TAGS = {
  "eks-cluster-arn": CLUSTER_ARN,
  "eks-cluster-name": "dev",
  "kubernetes-namespace": NAMESPACE,
  "kubernetes-service-account": SERVICE_ACCOUNT,
  "kubernetes-pod-name": "sqs-consumer-7d9f8-abcde",
  "kubernetes-pod-uid": "0f8b4c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b",
};
/** A session without the pinned tags: an association with session tags disabled. */
const UNTAGGED = {
  "eks-cluster-arn": undefined,
  "kubernetes-namespace": undefined,
  "kubernetes-service-account": undefined,
};

type Evaluation = Awaited<ReturnType<typeof IamSimulate.runSimulation>>;
let simulator: typeof IamSimulate;
before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
});

/** The simulator's verdict on one Pod Identity request against `trust` as the role's resource policy. */
async function verdict(
  trust: unknown,
  request: { principal?: string; action?: string; tags?: Record<string, string | undefined> } = {},
): Promise<string> {
  const contextVariables: Record<string, string> = {};
  for (const [tag, value] of Object.entries({ ...EKS_TAGS, ...request.tags }))
    if (value !== undefined) contextVariables[`aws:RequestTag/${tag}`] = value;
  const response: Evaluation = await simulator.runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust as Record<string, unknown>,
      request: {
        principal: request.principal ?? "pods.eks.amazonaws.com",
        action: request.action ?? "sts:AssumeRole",
        resource: { resource: roleArn("consumer-dev-consumer-pod-identity"), accountId: ACCOUNT },
        contextVariables,
      },
    },
    {},
  );
  assert.equal(response.resultType, "single", JSON.stringify(response));
  return (response as { overallResult: string }).overallResult;
}

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

  it("rejects a second statement trusting any AWS principal", async () => {
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
  const statement = (overrides: Record<string, unknown>) => ({
    Effect: "Allow",
    Principal: { Service: "pods.eks.amazonaws.com" },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: { StringEquals: POD_IDENTITY_PINS },
    ...overrides,
  });
  const doc = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });

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

  it("rejects an extra principal in the trusted statement", async () => {
    for (const principal of [
      { Service: ["pods.eks.amazonaws.com", "ecs-tasks.amazonaws.com"] },
      { Service: "pods.eks.amazonaws.com", AWS: `arn:aws:iam::${ACCOUNT}:root` },
      { Service: ["pods.eks.amazonaws.com", "ec2.amazonaws.com"] },
    ]) {
      assert.notDeepEqual(await trustMessages(doc(statement({ Principal: principal }))), [], JSON.stringify(principal));
    }
  });

  it("rejects a second Pod Identity statement that pins less, though the first is fine", async () => {
    const loose = statement({ Condition: { StringEquals: { "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN } } });
    assert.equal(
      await verdict(doc(statement({}), loose), { tags: { "kubernetes-namespace": "kube-system" } }),
      "Allowed",
      "what the loose statement opens",
    );
    assert.notDeepEqual(await trustMessages(doc(statement({}), loose)), []);
  });

  /**
   * IAM: ForAllValues is true when the key is absent from the request, and ...IfExists too
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html);
   * an association with session tags disabled sends none, so these "pins" let any association in the account in.
   */
  for (const operator of [
    "ForAllValues:StringEquals",
    "StringEqualsIfExists",
    "ForAnyValue:StringEquals",
    "StringEqualsIgnoreCase",
  ]) {
    it(`rejects pins written with ${operator} instead of StringEquals`, async () => {
      const trust = doc(statement({ Condition: { [operator]: POD_IDENTITY_PINS } }));
      if (operator !== "ForAnyValue:StringEquals" && operator !== "StringEqualsIgnoreCase") {
        assert.equal(await verdict(trust, { tags: UNTAGGED }), "Allowed", "what it opens");
      }
      const messages = await trustMessages(trust);
      assert.equal(messages.length, 3, messages.join("\n"));
    });
  }

  it("accepts a StringLike wildcard beside the three StringEquals pins, which only narrows", async () => {
    const trust = doc(
      statement({
        Condition: {
          StringEquals: POD_IDENTITY_PINS,
          StringLike: { "aws:RequestTag/kubernetes-pod-name": "sqs-consumer-*" },
        },
      }),
    );
    assert.deepEqual(await trustMessages(trust), []);
    assert.equal(await verdict(trust), "Allowed");
    assert.equal(await verdict(trust, { tags: { "kubernetes-namespace": "other" } }), "ImplicitlyDenied");
  });

  it("rejects a pin whose value is a StringLike-style pattern under StringEquals", async () => {
    const messages = await trustMessages(
      doc(
        statement({
          Condition: { StringEquals: { ...POD_IDENTITY_PINS, "aws:RequestTag/kubernetes-namespace": "consumer-*" } },
        }),
      ),
    );
    assert.equal(messages.length, 1, messages.join("\n"));
  });

  /**
   * EKS passes session tags, so STS requires sts:TagSession in the trust too: "The trust policy must
   * allow sts:AssumeRole and sts:TagSession" (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
   * Without it the association exists, and every credential request of the pod fails.
   */
  it("rejects sts:AssumeRole without sts:TagSession: EKS's tagged request would be refused", async () => {
    const trust = doc(statement({ Action: "sts:AssumeRole" }));
    assert.equal(
      await verdict(trust, { action: "sts:TagSession" }),
      "ImplicitlyDenied",
      "the tagged half of the request",
    );
    const messages = await trustMessages(trust);
    assert.ok(
      messages.some((m) => m.includes("sts:TagSession")),
      messages.join("\n") || "no message",
    );
  });
});

/**
 * What a Pod Identity trust the rule accepts (the three StringEquals pins) really allows, judged by
 * @cloud-copilot/iam-simulate with the request EKS Pod Identity makes: sts:AssumeRole and
 * sts:TagSession as `pods.eks.amazonaws.com`, with the session tags eks-cluster-arn, eks-cluster-name,
 * kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name and kubernetes-pod-uid
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html,
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
 */
describe("role-trust-pinned: a Pod Identity trust it accepts, by what it allows", () => {
  const trust = podIdentityTrust({ StringEquals: POD_IDENTITY_PINS });

  it("allows the consumer's pod, with every tag EKS sets (more than the three pinned): AssumeRole and TagSession", async () => {
    assert.equal(await verdict(trust), "Allowed");
    assert.equal(await verdict(trust, { action: "sts:TagSession" }), "Allowed");
  });

  for (const [what, tags] of [
    ["a namespace differing only in case", { "kubernetes-namespace": NAMESPACE.toUpperCase() }],
    ["a namespace the pinned one is a prefix of", { "kubernetes-namespace": `${NAMESPACE}-evil` }],
    ["the service account with a trailing space", { "kubernetes-service-account": `${SERVICE_ACCOUNT} ` }],
    [
      "a cluster of the same name in another account",
      { "eks-cluster-arn": "arn:aws:eks:eu-west-1:210987654321:cluster/dev" },
    ],
    [
      "a cluster of the same name in another region",
      { "eks-cluster-arn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev` },
    ],
    ["no tags at all", UNTAGGED],
  ] as const) {
    it(`denies ${what}`, async () => {
      assert.equal(await verdict(trust, { tags }), "ImplicitlyDenied");
      assert.equal(await verdict(trust, { action: "sts:TagSession", tags }), "ImplicitlyDenied");
    });
  }

  it("denies another service principal and actions EKS does not need", async () => {
    assert.equal(await verdict(trust, { principal: "ecs-tasks.amazonaws.com" }), "ImplicitlyDenied");
    assert.equal(await verdict(trust, { action: "sts:SetSourceIdentity" }), "ImplicitlyDenied");
  });
});
