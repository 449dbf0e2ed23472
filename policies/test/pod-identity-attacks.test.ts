/**
 * Attacks on the Pod Identity trust (issue 14), judged two ways: by what the document allows
 * (@cloud-copilot/iam-simulate, with the request EKS Pod Identity makes) and by the pack's
 * role-trust-pinned rule. EKS Pod Identity calls sts:AssumeRole and sts:TagSession as
 * `pods.eks.amazonaws.com` with the session tags eks-cluster-arn, eks-cluster-name, kubernetes-namespace,
 * kubernetes-service-account, kubernetes-pod-name and kubernetes-pod-uid
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html,
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { roleTrustPinned } from "../rules/iam";
import { stackViolations, withJson } from "./harness";
import { ACCOUNT, NAMESPACE, SERVICE_ACCOUNT, goodResources, roleArn } from "./fixtures/good-stack";

const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/dev`;
const ROLE_ARN = roleArn("consumer-dev-consumer-pod-identity");
const PINS = {
  "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
  "aws:RequestTag/kubernetes-namespace": NAMESPACE,
  "aws:RequestTag/kubernetes-service-account": SERVICE_ACCOUNT,
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

type Evaluation = Awaited<ReturnType<typeof IamSimulate.runSimulation>>;
let simulator: typeof IamSimulate;
before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
});

/** The simulator's verdict on one request against `trust` as the role's resource policy. */
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
        resource: { resource: ROLE_ARN, accountId: ACCOUNT },
        contextVariables,
      },
    },
    {},
  );
  assert.equal(response.resultType, "single", JSON.stringify(response));
  return (response as { overallResult: string }).overallResult;
}

async function packMessages(trust: unknown): Promise<string[]> {
  const good = goodResources();
  const role = withJson(good.role, "assumeRolePolicy", trust);
  return (await stackViolations(roleTrustPinned, Object.values({ ...good, role }))).map((f) => f.message);
}

const statement = (overrides: Record<string, unknown>) => ({
  Effect: "Allow",
  Principal: { Service: "pods.eks.amazonaws.com" },
  Action: ["sts:AssumeRole", "sts:TagSession"],
  Condition: { StringEquals: PINS },
  ...overrides,
});
const doc = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });

// The program's shape (infra/iam-documents.ts podIdentityTrustPolicy; test/identity.integration.test.ts simulates the rendered one).
const PROGRAM_SHAPE = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: { StringEquals: PINS },
    },
  ],
};

describe("a Pod Identity trust of the program's shape, by what it allows", () => {
  const trust = PROGRAM_SHAPE;

  it("the consumer's pod, with every tag EKS sets (more than the three pinned): AssumeRole and TagSession allowed", async () => {
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
    [
      "no tags at all",
      { "eks-cluster-arn": undefined, "kubernetes-namespace": undefined, "kubernetes-service-account": undefined },
    ],
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

describe("role-trust-pinned against Pod Identity trust variants", () => {
  it("the program's shape passes", async () => {
    assert.deepEqual(await packMessages(PROGRAM_SHAPE), []);
  });

  it("an extra principal in the trusted statement is reported", async () => {
    for (const principal of [
      { Service: ["pods.eks.amazonaws.com", "ecs-tasks.amazonaws.com"] },
      { Service: "pods.eks.amazonaws.com", AWS: `arn:aws:iam::${ACCOUNT}:root` },
      { Service: ["pods.eks.amazonaws.com", "ec2.amazonaws.com"] },
    ]) {
      assert.notDeepEqual(await packMessages(doc(statement({ Principal: principal }))), [], JSON.stringify(principal));
    }
  });

  it("a second Pod Identity statement that pins less is reported, though the first is fine", async () => {
    const loose = statement({ Condition: { StringEquals: { "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN } } });
    assert.equal(
      await verdict(doc(statement({}), loose), { tags: { "kubernetes-namespace": "kube-system" } }),
      "Allowed",
      "what the loose statement opens",
    );
    assert.notDeepEqual(await packMessages(doc(statement({}), loose)), []);
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
    it(`pins written with ${operator} instead of StringEquals are reported`, async () => {
      const trust = doc(statement({ Condition: { [operator]: PINS } }));
      if (operator !== "ForAnyValue:StringEquals" && operator !== "StringEqualsIgnoreCase") {
        assert.equal(
          await verdict(trust, {
            tags: {
              "eks-cluster-arn": undefined,
              "kubernetes-namespace": undefined,
              "kubernetes-service-account": undefined,
            },
          }),
          "Allowed",
          "what it opens",
        );
      }
      const messages = await packMessages(trust);
      assert.equal(messages.length, 3, messages.join("\n"));
    });
  }

  it("a StringLike wildcard beside the three StringEquals pins only narrows: allowed by the pack and still denies others", async () => {
    const trust = doc(
      statement({
        Condition: { StringEquals: PINS, StringLike: { "aws:RequestTag/kubernetes-pod-name": "sqs-consumer-*" } },
      }),
    );
    assert.deepEqual(await packMessages(trust), []);
    assert.equal(await verdict(trust), "Allowed");
    assert.equal(await verdict(trust, { tags: { "kubernetes-namespace": "other" } }), "ImplicitlyDenied");
  });

  it("a pin whose value is a StringLike-style pattern under StringEquals is reported", async () => {
    const messages = await packMessages(
      doc(statement({ Condition: { StringEquals: { ...PINS, "aws:RequestTag/kubernetes-namespace": "consumer-*" } } })),
    );
    assert.equal(messages.length, 1, messages.join("\n"));
  });

  /**
   * EKS passes session tags, so STS requires sts:TagSession in the trust too: "The trust policy must
   * allow sts:AssumeRole and sts:TagSession" (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
   * Without it the association exists, and every credential request of the pod fails.
   */
  it("sts:AssumeRole without sts:TagSession is reported: EKS's tagged request would be refused", async () => {
    const trust = doc(statement({ Action: "sts:AssumeRole" }));
    assert.equal(
      await verdict(trust, { action: "sts:TagSession" }),
      "ImplicitlyDenied",
      "the tagged half of the request",
    );
    const messages = await packMessages(trust);
    assert.ok(
      messages.some((m) => m.includes("sts:TagSession")),
      messages.join("\n") || "no message",
    );
  });
});
