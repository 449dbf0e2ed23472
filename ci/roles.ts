/**
 * The AWS roles GitHub Actions assumes, as typed IAM documents: a preview role for pull requests and a
 * deploy role for the protected environment. Generated JSON for IAM: `node --import tsx ci/roles.ts
 * <owner/repo> <account> <region> <state bucket> <project> <stack> <kms key ARN>`.
 *
 * The preview role reads only what `pulumi preview` of this program reads, listed by resource type
 * below, against a self-managed S3 backend with the `awskms` secrets provider (one KMS key per stack):
 * - credentials check: `sts:GetCallerIdentity` (the AWS provider validates credentials);
 * - state: the stack's own checkpoint and the referenced cluster stack's (StackReference), the
 *   backend's `meta.yaml`, listing under those prefixes, and writes only under the stack's own lock
 *   prefix (the DIY backend locks the stack during preview);
 * - secrets: `kms:Decrypt` on the stack's own key only, so a pull request cannot decrypt other stacks;
 * - EKS (cluster modes `stack`/`existing`): `eks:DescribeCluster` on this project's clusters;
 * - IAM (`existing` mode): `iam:GetOpenIDConnectProvider` and `iam:ListOpenIDConnectProviders` to find
 *   the adopted cluster's OIDC provider;
 * - EC2 (the cluster's VPC and subnets): `ec2:DescribeVpcs`, `ec2:DescribeSubnets`,
 *   `ec2:DescribeAvailabilityZones`;
 * - ECR (the image's registry login, `aws.ecr.getAuthorizationToken`): `ecr:GetAuthorizationToken`,
 *   which without `ecr:BatchGetImage` pulls nothing.
 * Nothing else: no SQS, no S3 objects other than the state above, no SSM, no other KMS key.
 * GitHub's OIDC claims: https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims
 * AWS condition keys for GitHub: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
 */
import type { PolicyDocument, PolicyStatement } from "../infra/iam-documents";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

export interface CiSettings {
  /** `<owner>/<repo>` on GitHub. */
  readonly repository: string;
  /** 12-digit AWS account ID. */
  readonly account: string;
  readonly region: string;
  /** The S3 bucket of the self-managed Pulumi backend (`s3://<bucket>`). */
  readonly stateBucket: string;
  /** The Pulumi project name (`sqs-eks-consumer`). */
  readonly project: string;
  /** The stack a pull request previews, e.g. `dev`. */
  readonly previewStack: string;
  /** The stack the deploy workflow updates, e.g. `prod`. */
  readonly deployStack: string;
  /** The stack a `stack`-mode cluster comes from, e.g. `shared`; undefined when none is referenced. */
  readonly clusterStack?: string;
  /** The `awskms` key ARN of each stack, by stack name. */
  readonly stackKeys: Readonly<Record<string, string>>;
  /** The GitHub environment the deploy job runs in (required reviewers, `main` only). */
  readonly deployEnvironment: string;
}

export interface CiRole {
  readonly trust: PolicyDocument;
  readonly permissions: PolicyDocument;
}

function githubTrust(account: string, subject: string, sid: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC_HOST}:sub`]: subject },
        },
      },
    ],
  };
}

function keyOf(settings: CiSettings, stack: string): string {
  const key = settings.stackKeys[stack];
  if (key === undefined) throw new Error(`ci/roles.ts: no awskms key for stack "${stack}" in stackKeys`);
  return key;
}

/** S3 object ARNs of the DIY backend (https://www.pulumi.com/docs/iac/concepts/state-and-backends/). */
function state(settings: CiSettings) {
  const bucket = `arn:aws:s3:::${settings.stateBucket}`;
  return {
    bucket,
    meta: `${bucket}/.pulumi/meta.yaml`,
    checkpoint: (stack: string) => `${bucket}/.pulumi/stacks/${settings.project}/${stack}.json`,
    locks: (stack: string) => `${bucket}/.pulumi/locks/${settings.project}/${stack}/*`,
    lockPrefix: (stack: string) => `.pulumi/locks/${settings.project}/${stack}/`,
    stackPrefix: `.pulumi/stacks/${settings.project}/`,
    history: (stack: string) => `${bucket}/.pulumi/history/${settings.project}/${stack}/*`,
    backups: (stack: string) => `${bucket}/.pulumi/backups/${settings.project}/${stack}/*`,
  };
}

/** The role a pull request's preview assumes: trusted only for `pull_request` runs of the repository. */
export function previewRole(settings: CiSettings): CiRole {
  const s = state(settings);
  const stack = settings.previewStack;
  const readable = [
    s.meta,
    s.checkpoint(stack),
    ...(settings.clusterStack === undefined ? [] : [s.checkpoint(settings.clusterStack)]),
  ];
  const statements: PolicyStatement[] = [
    { Sid: "CallerIdentity", Effect: "Allow", Action: "sts:GetCallerIdentity", Resource: "*" },
    { Sid: "ReadOwnState", Effect: "Allow", Action: "s3:GetObject", Resource: readable },
    {
      Sid: "ListOwnState",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: s.bucket,
      Condition: { StringLike: { "s3:prefix": [`${s.stackPrefix}*`, `${s.lockPrefix(stack)}*`, ".pulumi/meta.yaml"] } },
    },
    { Sid: "OwnLockOnly", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: s.locks(stack) },
    { Sid: "OwnSecretsOnly", Effect: "Allow", Action: "kms:Decrypt", Resource: keyOf(settings, stack) },
    {
      Sid: "ClusterLookup",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: `arn:aws:eks:${settings.region}:${settings.account}:cluster/${settings.project}-*`,
    },
    {
      Sid: "OidcProviderLookup",
      Effect: "Allow",
      Action: ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviders"],
      Resource: "*",
    },
    {
      Sid: "NetworkLookup",
      Effect: "Allow",
      Action: ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeAvailabilityZones"],
      Resource: "*",
    },
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
  ];
  return {
    trust: githubTrust(settings.account, `repo:${settings.repository}:pull_request`, "PullRequestsOfThisRepository"),
    permissions: { Version: "2012-10-17", Statement: statements },
  };
}

/**
 * The role the deploy workflow assumes: trusted only for jobs of the repository that run in the
 * protected environment (GitHub puts `repo:<owner>/<repo>:environment:<name>` in `sub`). It manages
 * the program's resources under the project's name prefix, its own stack's state and key.
 */
export function deployRole(settings: CiSettings): CiRole {
  const s = state(settings);
  const stack = settings.deployStack;
  const prefix = `${settings.project}-`;
  const arn = (service: string, resource: string, region = settings.region) =>
    `arn:aws:${service}:${region}:${settings.account}:${resource}`;
  const statements: PolicyStatement[] = [
    { Sid: "CallerIdentity", Effect: "Allow", Action: "sts:GetCallerIdentity", Resource: "*" },
    {
      Sid: "ReadState",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [
        s.meta,
        s.checkpoint(stack),
        ...(settings.clusterStack === undefined ? [] : [s.checkpoint(settings.clusterStack)]),
      ],
    },
    {
      Sid: "ListState",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: s.bucket,
      Condition: { StringLike: { "s3:prefix": [`${s.stackPrefix}*`, `${s.lockPrefix(stack)}*`, ".pulumi/meta.yaml"] } },
    },
    {
      Sid: "WriteOwnState",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: [s.checkpoint(stack), s.locks(stack), s.history(stack), s.backups(stack)],
    },
    {
      Sid: "OwnSecrets",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: keyOf(settings, stack),
    },
    {
      Sid: "Queues",
      Effect: "Allow",
      Action: [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
        "sqs:UntagQueue",
        "sqs:ListQueueTags",
      ],
      Resource: arn("sqs", `${prefix}*`),
    },
    {
      Sid: "Roles",
      Effect: "Allow",
      Action: [
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:GetRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListInstanceProfilesForRole",
      ],
      Resource: `arn:aws:iam::${settings.account}:role/${prefix}*`,
    },
    {
      Sid: "PassRolesToEksAndEc2",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: `arn:aws:iam::${settings.account}:role/${prefix}*`,
      Condition: { StringEquals: { "iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com"] } },
    },
    {
      Sid: "Cluster",
      Effect: "Allow",
      Action: [
        "eks:CreateCluster",
        "eks:DeleteCluster",
        "eks:DescribeCluster",
        "eks:UpdateClusterConfig",
        "eks:UpdateClusterVersion",
        "eks:TagResource",
        "eks:CreateNodegroup",
        "eks:DeleteNodegroup",
        "eks:DescribeNodegroup",
        "eks:UpdateNodegroupConfig",
        "eks:UpdateNodegroupVersion",
        "eks:CreateAccessEntry",
        "eks:DeleteAccessEntry",
        "eks:DescribeAccessEntry",
        "eks:AssociateAccessPolicy",
        "eks:DisassociateAccessPolicy",
      ],
      Resource: [
        arn("eks", `cluster/${prefix}*`),
        arn("eks", `nodegroup/${prefix}*/*/*`),
        arn("eks", `access-entry/${prefix}*/*/*`),
      ],
    },
    {
      Sid: "OidcProvider",
      Effect: "Allow",
      Action: [
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:GetOpenIDConnectProvider",
        "iam:ListOpenIDConnectProviders",
        "iam:TagOpenIDConnectProvider",
      ],
      Resource: "*",
    },
    {
      Sid: "Registry",
      Effect: "Allow",
      Action: [
        "ecr:CreateRepository",
        "ecr:DeleteRepository",
        "ecr:DescribeRepositories",
        "ecr:PutLifecyclePolicy",
        "ecr:GetLifecyclePolicy",
        "ecr:PutImageScanningConfiguration",
        "ecr:TagResource",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchCheckLayerAvailability",
      ],
      Resource: arn("ecr", `repository/${prefix}*`),
    },
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "Network",
      Effect: "Allow",
      Action: [
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:DeleteLaunchTemplate",
        "ec2:CreateTags",
      ],
      Resource: "*",
    },
  ];
  return {
    trust: githubTrust(
      settings.account,
      `repo:${settings.repository}:environment:${settings.deployEnvironment}`,
      "ProtectedEnvironmentOnly",
    ),
    permissions: { Version: "2012-10-17", Statement: statements },
  };
}

if (require.main === module) {
  const [repository, account, region, stateBucket, project, stack, key] = process.argv.slice(2);
  if ([repository, account, region, stateBucket, project, stack, key].some((v) => v === undefined || v === "")) {
    console.error(
      "usage: node --import tsx ci/roles.ts <owner/repo> <account> <region> <state bucket> <project> <stack> <kms key ARN>",
    );
    process.exitCode = 64;
  } else {
    const settings: CiSettings = {
      repository: repository ?? "",
      account: account ?? "",
      region: region ?? "",
      stateBucket: stateBucket ?? "",
      project: project ?? "",
      previewStack: stack ?? "",
      deployStack: stack ?? "",
      stackKeys: { [stack ?? ""]: key ?? "" },
      deployEnvironment: "production",
    };
    console.log(JSON.stringify({ preview: previewRole(settings), deploy: deployRole(settings) }, null, 2));
  }
}
