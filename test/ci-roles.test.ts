/**
 * The CI roles (ci/roles.ts), evaluated by a real IAM policy evaluator (@cloud-copilot/iam-simulate): the
 * preview role reads what a preview needs and no data (no queue messages, objects, parameters or other
 * stacks' secrets), writes only its stack's lock, and only pull requests of the repository can assume
 * it; the deploy role is assumable only from the protected environment; the cleanup role only from the
 * cleanup environment, and it keeps away from the long-lived stacks' state, secrets and resources.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  GITHUB_OIDC_HOST,
  cleanupRole,
  createRolesScript,
  deployRole,
  previewRole,
  type CiSettings,
} from "../ci/roles";
import type { PolicyDocument } from "../infra/iam-documents";

type EvaluationResult = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

const ACCOUNT = "123456789012";
const SETTINGS: CiSettings = {
  repository: "example/sqs-eks-consumer",
  account: ACCOUNT,
  region: "eu-west-1",
  stateBucket: "example-pulumi-state",
  project: "sqs-eks-consumer",
  previewStack: "dev",
  deployStack: "prod",
  clusterStack: "shared",
  stackKeys: {
    dev: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`,
    prod: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`,
  },
  deployEnvironment: "production",
};
const PROD_KEY = SETTINGS.stackKeys["prod"] ?? "";
const DEV_KEY = SETTINGS.stackKeys["dev"] ?? "";
const BUCKET = `arn:aws:s3:::${SETTINGS.stateBucket}`;

let simulator: typeof IamSimulate;

before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
});

/**
 * KMS keys authorise only what their key policy delegates; this is the default key policy, which lets
 * IAM policies of the account decide (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
 */
const DEFAULT_KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "EnableIamPolicies",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
};

/** What `permissions` lets the role's session do with `action` on `resource`. */
async function can(
  permissions: PolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): Promise<EvaluationResult> {
  const response = await simulator.runSimulation(
    {
      identityPolicies: [{ name: "permissions", policy: permissions }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(action.startsWith("kms:") ? { resourcePolicy: DEFAULT_KEY_POLICY } : {}),
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/ci/github`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: context,
      },
    },
    {},
  );
  assert.notEqual(response.resultType, "error", JSON.stringify(response));
  return (response as { overallResult: EvaluationResult }).overallResult;
}

/**
 * Whether a GitHub OIDC token with `sub` may assume a role with `trust`. The validating path drops condition
 * keys of identity providers it does not know, so, as test/identity.integration.test.ts does, the pre-validated form is
 * used after `runSimulation` has validated the document's syntax (first test).
 */
function assume(trust: PolicyDocument, sub: string, aud = "sts.amazonaws.com"): EvaluationResult {
  return simulator.runUnsafeSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: { __validated: true, policyDocument: trust, metadata: { name: "trust" }, errors: [] },
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB_OIDC_HOST}`,
        action: "sts:AssumeRoleWithWebIdentity",
        resource: { resource: `arn:aws:iam::${ACCOUNT}:role/ci`, accountId: ACCOUNT },
        contextVariables: { [`${GITHUB_OIDC_HOST}:sub`]: sub, [`${GITHUB_OIDC_HOST}:aud`]: aud },
      },
    },
    {},
  );
}

describe("the preview role", () => {
  const { trust, permissions } = previewRole(SETTINGS);

  it("has syntactically valid documents (validated by the evaluator)", async () => {
    const response = await simulator.runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB_OIDC_HOST}`,
          action: "sts:AssumeRoleWithWebIdentity",
          resource: { resource: `arn:aws:iam::${ACCOUNT}:role/ci`, accountId: ACCOUNT },
          contextVariables: {},
        },
      },
      {},
    );
    assert.equal(response.resultType, "single", JSON.stringify(response));
    assert.equal(await can(permissions, "sts:GetCallerIdentity", "*"), "Allowed");
  });

  it("is assumable only by pull_request runs of the repository", () => {
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:pull_request"), "Allowed");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:ref:refs/heads/main"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:environment:production"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:attacker/sqs-eks-consumer:pull_request"), "ImplicitlyDenied");
    assert.equal(
      assume(trust, "repo:example/sqs-eks-consumer:pull_request", "https://github.com/example"),
      "ImplicitlyDenied",
    );
  });

  it("cannot receive from a queue, read an object, get a parameter, or decrypt other stacks' secrets", async () => {
    const denied: [string, string][] = [
      ["sqs:ReceiveMessage", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-prod`],
      ["sqs:GetQueueAttributes", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-prod`],
      ["s3:GetObject", `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/prod.json`],
      ["s3:GetObject", `arn:aws:s3:::some-data-bucket/customers.csv`],
      ["ssm:GetParameter", `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/prod/database-password`],
      ["secretsmanager:GetSecretValue", `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod-AbCdEf`],
      ["kms:Decrypt", PROD_KEY],
      ["ecr:BatchGetImage", `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/sqs-eks-consumer-prod`],
    ];
    for (const [action, resource] of denied)
      assert.equal(await can(permissions, action, resource), "ImplicitlyDenied", `${action} ${resource}`);
  });

  it("writes no state but its own stack's lock", async () => {
    assert.equal(
      await can(permissions, "s3:PutObject", `${BUCKET}/.pulumi/locks/sqs-eks-consumer/dev/0b1c.json`),
      "Allowed",
    );
    assert.equal(
      await can(permissions, "s3:DeleteObject", `${BUCKET}/.pulumi/locks/sqs-eks-consumer/dev/0b1c.json`),
      "Allowed",
    );
    for (const object of [
      "stacks/sqs-eks-consumer/dev.json",
      "history/sqs-eks-consumer/dev/x.json",
      "locks/sqs-eks-consumer/prod/0b1c.json",
      "meta.yaml",
    ]) {
      assert.equal(await can(permissions, "s3:PutObject", `${BUCKET}/.pulumi/${object}`), "ImplicitlyDenied", object);
    }
  });

  it("reads what a preview of this program reads", async () => {
    const allowed: [string, string][] = [
      ["s3:GetObject", `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/dev.json`],
      ["s3:GetObject", `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/shared.json`],
      ["s3:GetObject", `${BUCKET}/.pulumi/meta.yaml`],
      ["kms:Decrypt", DEV_KEY],
      ["eks:DescribeCluster", `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/sqs-eks-consumer-shared`],
      ["iam:GetOpenIDConnectProvider", `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC`],
      ["ec2:DescribeSubnets", "*"],
      ["ecr:GetAuthorizationToken", "*"],
    ];
    for (const [action, resource] of allowed)
      assert.equal(await can(permissions, action, resource), "Allowed", `${action} ${resource}`);
    assert.equal(
      await can(permissions, "s3:ListBucket", BUCKET, { "s3:prefix": ".pulumi/stacks/sqs-eks-consumer/" }),
      "Allowed",
    );
    assert.equal(await can(permissions, "s3:ListBucket", BUCKET, { "s3:prefix": "customers/" }), "ImplicitlyDenied");
  });
});

describe("the deploy role", () => {
  const { trust, permissions } = deployRole(SETTINGS);

  it("is assumable only from the protected environment of the repository", () => {
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:environment:production"), "Allowed");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:pull_request"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:ref:refs/heads/main"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:environment:staging"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/other:environment:production"), "ImplicitlyDenied");
  });

  it("manages its own stack's state and key, not the preview stack's, and reads no queue messages", async () => {
    assert.equal(
      await can(permissions, "s3:PutObject", `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/prod.json`),
      "Allowed",
    );
    assert.equal(await can(permissions, "kms:Encrypt", PROD_KEY), "Allowed");
    assert.equal(
      await can(permissions, "s3:PutObject", `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/dev.json`),
      "ImplicitlyDenied",
    );
    assert.equal(await can(permissions, "kms:Decrypt", DEV_KEY), "ImplicitlyDenied");
    assert.equal(
      await can(permissions, "sqs:ReceiveMessage", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-prod`),
      "ImplicitlyDenied",
    );
    assert.equal(
      await can(permissions, "sqs:CreateQueue", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-prod`),
      "Allowed",
    );
    assert.equal(
      await can(permissions, "sqs:DeleteQueue", `arn:aws:sqs:eu-west-1:${ACCOUNT}:someone-elses`),
      "ImplicitlyDenied",
    );
    assert.equal(
      await can(permissions, "iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/sqs-eks-consumer-node`, {
        "iam:PassedToService": "lambda.amazonaws.com",
      }),
      "ImplicitlyDenied",
    );
  });
});

describe("the cleanup role", () => {
  const DEVELOPER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/33333333-3333-3333-3333-333333333333`;
  const settings: CiSettings = { ...SETTINGS, developerStacksKey: DEVELOPER_KEY };
  const { trust, permissions } = cleanupRole(settings);
  const checkpoint = (stack: string) => `${BUCKET}/.pulumi/stacks/sqs-eks-consumer/${stack}.json`;

  it("exists only when the settings name the developer stacks' key", () => {
    assert.throws(() => cleanupRole(SETTINGS), /developerStacksKey/);
    assert.doesNotMatch(createRolesScript(SETTINGS), /ci-sqs-eks-consumer-cleanup/);
    assert.match(createRolesScript(settings), /create-role --role-name ci-sqs-eks-consumer-cleanup /);
  });

  it("is assumable only from the cleanup environment of the repository", () => {
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:environment:developer-stacks"), "Allowed");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:environment:production"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:ref:refs/heads/main"), "ImplicitlyDenied");
    assert.equal(assume(trust, "repo:example/sqs-eks-consumer:pull_request"), "ImplicitlyDenied");
  });

  it("removes a developer stack's state and decrypts with the developer stacks' key", async () => {
    for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
      assert.equal(await can(permissions, action, checkpoint("alice-retry-fix")), "Allowed", action);
    assert.equal(
      await can(permissions, "s3:PutObject", `${BUCKET}/.pulumi/locks/sqs-eks-consumer/alice/lock.json`),
      "Allowed",
    );
    assert.equal(await can(permissions, "kms:Decrypt", DEVELOPER_KEY), "Allowed");
  });

  it("cannot write the long-lived stacks' state, decrypt their secrets, or touch what is named after them", async () => {
    for (const stack of ["dev", "prod", "shared"]) {
      assert.equal(await can(permissions, "s3:GetObject", checkpoint(stack)), "Allowed", `lists ${stack}'s outputs`);
      for (const action of ["s3:PutObject", "s3:DeleteObject"])
        assert.equal(await can(permissions, action, checkpoint(stack)), "ExplicitlyDenied", `${action} ${stack}`);
      assert.equal(
        await can(permissions, "sqs:DeleteQueue", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-${stack}`),
        "ExplicitlyDenied",
      );
      assert.equal(
        await can(permissions, "iam:DeleteRole", `arn:aws:iam::${ACCOUNT}:role/sqs-eks-consumer-${stack}-keda`),
        "ExplicitlyDenied",
      );
      assert.equal(
        await can(permissions, "kms:ScheduleKeyDeletion", `arn:aws:kms:eu-west-1:${ACCOUNT}:key/4444`, {
          "aws:ResourceTag/Project": "sqs-eks-consumer",
          "aws:ResourceTag/Stack": stack,
        }),
        "ExplicitlyDenied",
      );
    }
    assert.equal(await can(permissions, "kms:Decrypt", PROD_KEY), "ImplicitlyDenied");
    assert.equal(await can(permissions, "kms:Decrypt", DEV_KEY), "ImplicitlyDenied");
    assert.equal(
      await can(permissions, "eks:DeleteCluster", `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/sqs-eks-consumer-alice`),
      "ImplicitlyDenied",
    );
    assert.equal(
      await can(permissions, "sqs:DeleteQueue", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-alice`),
      "Allowed",
    );
    assert.equal(
      await can(permissions, "sqs:ReceiveMessage", `arn:aws:sqs:eu-west-1:${ACCOUNT}:sqs-eks-consumer-alice`),
      "ImplicitlyDenied",
    );
  });
});
