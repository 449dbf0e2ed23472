/**
 * The AWS roles GitHub Actions assumes, as typed IAM documents, built from the table of what the program
 * requests (ci/permissions/): a preview role for pull requests, a deploy role for the protected environment,
 * a cleanup role that destroys expired developer stacks (.github/workflows/developer-stacks.yml), and the
 * permissions boundary the program may put on every role it creates. Generated JSON for IAM:
 * `npm run ci:roles -- <settings.json>` (docs/DEPLOY.md, "Bootstrap").
 *
 * - Each grant of the table becomes one statement, scoped to what this project may touch: names under
 *   `<project>-` (queues, roles, clusters, repositories, topics, alarms), tags (`Project` on what has no
 *   name of ours: KMS keys, a cluster being created), or the condition the request carries (a role passed
 *   to EKS only, the managed policies a node or cluster role may carry, the EKS access policies). EC2
 *   networking is authorised by ID only, so it is granted in the stack's region without a name scope.
 * - The preview role gets the actions of the `invoke` phase only: what `pulumi preview` calls (invokes,
 *   the chart pull), nothing that creates, changes or deletes.
 * - Both keep the state of their own stack (self-managed S3 backend, https://www.pulumi.com/docs/iac/concepts/state-and-backends/)
 *   and decrypt only their own stack's secrets (`awskms` secrets provider, one key per stack).
 * - The cleanup role gets the `delete` actions of the resource types a developer stack registers
 *   (DEVELOPER_STACK_TYPES), the state of every stack but the long-lived ones, and only the developer stacks'
 *   secrets key; it is refused everything named after, or tagged with, a long-lived stack.
 * - No CI role is named under `<project>-`, so the deploy role cannot change its own trust or policies.
 * GitHub's OIDC claims: https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims
 * AWS condition keys for GitHub: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
 */
import { readFileSync } from "node:fs";
import type { ConditionBlock, PolicyDocument, PolicyStatement } from "../infra/iam-documents";
import { actionsByGrant, type Grant } from "./permissions";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * How long a CI session lasts (s). The deploy job's timeout is shorter than its session, so credentials
 * never expire mid-update (.github/workflows/deploy.yml `timeout-minutes`, `role-duration-seconds`); a
 * role accepts sessions up to its MaxSessionDuration (IAM user guide, "id_roles_use", 1 to 12 hours).
 */
export const SESSION_SECONDS = { preview: 3600, deploy: 7200, cleanup: 3600 } as const;

/** The AWS managed policies a node or cluster role of this program may carry (infra/cluster.ts, pulumi-eks). */
export const INFRASTRUCTURE_MANAGED_POLICIES = [
  "AmazonEKSClusterPolicy",
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryPullOnly",
  // EKS Auto Mode's cluster role and node role (infra/cluster.ts CLUSTER_MANAGED_POLICIES, NODE_MANAGED_POLICIES).
  "AmazonEKSComputePolicy",
  "AmazonEKSBlockStoragePolicy",
  "AmazonEKSLoadBalancingPolicy",
  "AmazonEKSNetworkingPolicy",
  "AmazonEKSWorkerNodeMinimalPolicy",
] as const;

/**
 * The EKS access policies the program associates (infra/cluster-access.ts): admins and the deploy role, and
 * the preview role. Developers get none: their access entries carry a username and a group, which RBAC binds
 * (infra/developer-access.ts).
 */
export const EKS_ACCESS_POLICIES = ["AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy"] as const;

/**
 * The AWS resource types a developer stack (clusterMode borrow) registers: what the cleanup role deletes.
 * test/deploy/ci-permissions.integration.test.ts checks the list against the recorded developer stacks.
 */
export const DEVELOPER_STACK_TYPES: ReadonlySet<string> = new Set([
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:ecr/repository:Repository",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:kms/key:Key",
  "aws:sns/topic:Topic",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:sqs/queue:Queue",
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  "docker:index/image:Image",
]);

export interface CiSettings {
  /** `<owner>/<repo>` on GitHub. */
  readonly repository: string;
  /** 12-digit AWS account ID. */
  readonly account: string;
  readonly region: string;
  /** The AWS partition (`aws`, `aws-cn`, `aws-us-gov`); default `aws`. */
  readonly partition?: string;
  /** The S3 bucket of the self-managed Pulumi backend (`s3://<bucket>`). */
  readonly stateBucket: string;
  /** The Pulumi project name (`sqs-eks-consumer`); every name the program gives starts with `<project>-`. */
  readonly project: string;
  /** The stack a pull request previews, e.g. `dev`. */
  readonly previewStack: string;
  /** The stack the deploy workflow updates, e.g. `prod`. */
  readonly deployStack: string;
  /** The stack a `stack`-mode cluster comes from, e.g. `shared`; undefined when none is referenced. */
  readonly clusterStack?: string;
  /** Clusters adopted in `existing` mode (not named by this project): their names. */
  readonly adoptedClusters?: readonly string[];
  /** The `awskms` key ARN of each stack, by stack name. */
  readonly stackKeys: Readonly<Record<string, string>>;
  /** The GitHub environment the deploy job runs in (required reviewers, `main` only). */
  readonly deployEnvironment: string;
  /**
   * The `awskms` key ARN every developer stack keeps its secrets with (`pulumi stack init <person>
   * --secrets-provider awskms:///<ARN>`, docs/DEPLOY.md "Developer stacks"); the cleanup role exists only
   * when it is set, and decrypts with this key alone.
   */
  readonly developerStacksKey?: string;
  /** The GitHub environment the developer stacks' cleanup job runs in (`main` only); default `developer-stacks`. */
  readonly cleanupEnvironment?: string;
  /**
   * ARN of the permissions boundary every role of the program carries (`rolePermissionsBoundary` in the
   * stack config); when set, the deploy role can create and change roles only with it.
   */
  readonly permissionsBoundaryArn?: string;
}

export interface CiRole {
  readonly name: string;
  readonly maxSessionDurationSeconds: number;
  readonly trust: PolicyDocument;
  /** Everything the role may do, as one document. */
  readonly permissions: PolicyDocument;
  /** The same statements as customer managed policies that each fit IAM's size quota (`managedPolicies`). */
  readonly policies: readonly PolicyDocument[];
}

/**
 * IAM's quotas on policies the roles are made of (IAM user guide, "IAM and AWS STS quotas"): a customer
 * managed policy holds at most 6,144 characters, white space not counted; a role has at most 10 managed
 * policies attached (the default quota); a trust policy at most 2,048 characters.
 */
export const IAM_POLICY_QUOTAS = {
  managedPolicyCharacters: 6_144,
  managedPoliciesPerRole: 10,
  trustPolicyCharacters: 2_048,
} as const;

/** A policy's size as IAM counts it: its JSON without white space. */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).replace(/\s/g, "").length;
}

/** The statements of `document` packed, in order, into as few documents of at most `limit` characters as it takes. */
export function managedPolicies(
  document: PolicyDocument,
  limit: number = IAM_POLICY_QUOTAS.managedPolicyCharacters,
): PolicyDocument[] {
  const chunks: PolicyStatement[][] = [];
  for (const statement of document.Statement) {
    const last = chunks.at(-1);
    if (last !== undefined && policySize({ Version: "2012-10-17", Statement: [...last, statement] }) <= limit)
      last.push(statement);
    else chunks.push([statement]);
  }
  return chunks.map((Statement) => ({ Version: "2012-10-17", Statement }));
}

/** The CI roles' names: outside `<project>-`, the prefix the deploy role manages. */
export function ciRoleName(project: string, role: "preview" | "deploy" | "cleanup"): string {
  return `ci-${project}-${role}`;
}

/** The name of the permissions boundary policy (`arn:aws:iam::<account>:policy/<name>`). */
export function boundaryPolicyName(project: string): string {
  return `${project}-role-boundary`;
}

function partitionOf(settings: CiSettings): string {
  return settings.partition ?? "aws";
}

function githubTrust(settings: CiSettings, subject: string, sid: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Allow",
        Principal: {
          Federated: `arn:${partitionOf(settings)}:iam::${settings.account}:oidc-provider/${GITHUB_OIDC_HOST}`,
        },
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
  const bucket = `arn:${partitionOf(settings)}:s3:::${settings.stateBucket}`;
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

/** Where each grant may act, and under which condition, for the role named `roleName`; undefined: not granted. */
function grantScope(
  settings: CiSettings,
  grant: Grant,
  roleName: string,
): { resources: string[]; condition?: ConditionBlock } | undefined {
  const p = partitionOf(settings);
  const { account: a, region: r, project } = settings;
  const named = `${project}-*`;
  const adopted = settings.adoptedClusters ?? [];
  const clusters = [named, ...adopted];
  const eks = (resource: string) => `arn:${p}:eks:${r}:${a}:${resource}`;
  const role = `arn:${p}:iam::${a}:role/${named}`;
  const boundary =
    settings.permissionsBoundaryArn === undefined
      ? undefined
      : { StringEquals: { "iam:PermissionsBoundary": settings.permissionsBoundaryArn } };
  switch (grant) {
    case "callerRole":
      // The program reads its caller's role (aws.iam.getSessionContext): this role, and no other.
      return { resources: [`arn:${p}:iam::${a}:role/${roleName}`] };
    case "queues":
      return { resources: [`arn:${p}:sqs:${r}:${a}:${named}`] };
    case "roleWrite":
      return boundary === undefined ? { resources: [role] } : { resources: [role], condition: boundary };
    case "roleManage":
      return { resources: [role] };
    case "roleBoundaryRemove":
      // Removing a boundary would undo the one the account requires (IAM user guide, "access_policies_boundaries",
      // delegating with a boundary: the delegate may not delete it), so it is granted only when none is required.
      return boundary === undefined ? { resources: [role] } : undefined;
    case "rolePolicyAttach":
      return {
        resources: [role],
        condition: {
          ArnEquals: {
            "iam:PolicyARN": INFRASTRUCTURE_MANAGED_POLICIES.map((name) => `arn:${p}:iam::aws:policy/${name}`),
          },
        },
      };
    case "passRoleToEks":
      return { resources: [role], condition: { StringEquals: { "iam:PassedToService": "eks.amazonaws.com" } } };
    case "passRoleToPodIdentity":
      return { resources: [role], condition: { StringEquals: { "iam:PassedToService": "pods.eks.amazonaws.com" } } };
    case "serviceLinkedRoles":
      return {
        resources: [
          `arn:${p}:iam::${a}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS`,
          `arn:${p}:iam::${a}:role/aws-service-role/eks-nodegroup.amazonaws.com/AWSServiceRoleForAmazonEKSNodegroup`,
        ],
        condition: { StringEquals: { "iam:AWSServiceName": ["eks.amazonaws.com", "eks-nodegroup.amazonaws.com"] } },
      };
    case "oidcProviders":
      return { resources: [`arn:${p}:iam::${a}:oidc-provider/oidc.eks.${r}.amazonaws.com/id/*`] };
    case "oidcProviderLookup":
    case "eksCatalog":
    case "registryLogin":
    case "networkRead":
      return { resources: ["*"] };
    case "clusterCreate":
      return { resources: ["*"], condition: { StringEquals: { "aws:RequestTag/Project": project } } };
    case "keyCreate":
      // Tags given to CreateKey are authorised as kms:TagResource by a policy not restricted to particular
      // keys (AWS KMS developer guide, "tag-permissions"): the key has no ID and no tags yet. A key that already
      // carries a Project tag (another project's) cannot be re-tagged through this statement.
      return {
        resources: ["*"],
        condition: {
          StringEquals: { "aws:RequestTag/Project": project },
          Null: { "aws:ResourceTag/Project": "true" },
        },
      };
    case "clusters":
      return { resources: clusters.map((name) => eks(`cluster/${name}`)) };
    case "nodegroups":
      return { resources: clusters.map((name) => eks(`nodegroup/${name}/*/*`)) };
    case "addons":
      return { resources: clusters.map((name) => eks(`addon/${name}/*/*`)) };
    case "accessEntries":
      return { resources: clusters.map((name) => eks(`access-entry/${name}/*`)) };
    case "accessPolicies":
      return {
        resources: [eks(`access-entry/${named}/*`)],
        condition: {
          StringEquals: {
            "eks:policyArn": EKS_ACCESS_POLICIES.map((name) => `arn:${p}:eks::aws:cluster-access-policy/${name}`),
          },
        },
      };
    case "podIdentityAssociations":
      return { resources: clusters.map((name) => eks(`podidentityassociation/${name}/*`)) };
    case "repositories":
      return { resources: [`arn:${p}:ecr:${r}:${a}:repository/${named}`] };
    case "chartMirror":
      return { resources: [`arn:${p}:ecr:${r}:${a}:repository/${project}/charts/*`] };
    case "topics":
      return { resources: [`arn:${p}:sns:${r}:${a}:${named}`] };
    case "alarms":
      return { resources: [`arn:${p}:cloudwatch:${r}:${a}:alarm:${named}`] };
    case "keys":
      return {
        resources: [`arn:${p}:kms:${r}:${a}:key/*`],
        condition: { StringEquals: { "aws:ResourceTag/Project": project } },
      };
    case "networkWrite":
      return { resources: ["*"], condition: { StringEquals: { "aws:RequestedRegion": r } } };
  }
}

/**
 * The statements of the table's grants, keeping the actions of the given phases only (and, with
 * `resourceTypes`, of those resource types only).
 */
function grantStatements(
  settings: CiSettings,
  roleName: string,
  keep: (phases: ReadonlySet<string>) => boolean,
  resourceTypes?: ReadonlySet<string>,
): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (const [grant, actions] of actionsByGrant(resourceTypes)) {
    const kept = [...actions].filter(([, phases]) => keep(phases)).map(([action]) => action);
    if (kept.length === 0) continue;
    const scope = grantScope(settings, grant, roleName);
    if (scope === undefined) continue;
    statements.push({
      Sid: grant.charAt(0).toUpperCase() + grant.slice(1),
      Effect: "Allow",
      Action: [...new Set(kept)].sort(),
      Resource: scope.resources,
      ...(scope.condition === undefined ? {} : { Condition: scope.condition }),
    });
  }
  return statements;
}

function stateStatements(settings: CiSettings, stack: string, write: boolean): PolicyStatement[] {
  const s = state(settings);
  const readable = [
    s.meta,
    s.checkpoint(stack),
    ...(settings.clusterStack === undefined ? [] : [s.checkpoint(settings.clusterStack)]),
  ];
  return [
    { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: readable },
    {
      Sid: "ListState",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: s.bucket,
      Condition: { StringLike: { "s3:prefix": [`${s.stackPrefix}*`, `${s.lockPrefix(stack)}*`, ".pulumi/meta.yaml"] } },
    },
    write
      ? {
          Sid: "WriteOwnState",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:DeleteObject"],
          Resource: [s.checkpoint(stack), s.locks(stack), s.history(stack), s.backups(stack)],
        }
      : { Sid: "OwnLockOnly", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: s.locks(stack) },
    write
      ? {
          Sid: "OwnSecrets",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
          Resource: keyOf(settings, stack),
        }
      : { Sid: "OwnSecretsOnly", Effect: "Allow", Action: "kms:Decrypt", Resource: keyOf(settings, stack) },
  ];
}

/**
 * The role a pull request's preview assumes: trusted only for `pull_request` runs of the repository. It
 * reads its stack's state, writes only the stack's lock, decrypts only its stack's secrets, and holds the
 * table's `invoke` actions. Its Kubernetes access is the view access entry the stack gives it
 * (`ciPreviewRoleArn`, docs/DEPLOY.md).
 */
export function previewRole(settings: CiSettings): CiRole {
  const name = ciRoleName(settings.project, "preview");
  const permissions: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [
      ...stateStatements(settings, settings.previewStack, false),
      ...grantStatements(settings, name, (phases) => phases.has("invoke")),
    ],
  };
  return {
    name,
    maxSessionDurationSeconds: SESSION_SECONDS.preview,
    trust: githubTrust(settings, `repo:${settings.repository}:pull_request`, "PullRequestsOfThisRepository"),
    permissions,
    policies: managedPolicies(permissions),
  };
}

/**
 * The role the deploy workflow assumes: trusted only for jobs of the repository that run in the protected
 * environment (GitHub puts `repo:<owner>/<repo>:environment:<name>` in `sub`). It holds every action of the
 * table, scoped to this project, its own stack's state and key. Its Kubernetes access is the admin access
 * entry the stack gives it (`ciDeployRoleArn`, docs/DEPLOY.md).
 */
export function deployRole(settings: CiSettings): CiRole {
  const name = ciRoleName(settings.project, "deploy");
  const permissions: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [
      ...stateStatements(settings, settings.deployStack, true),
      ...grantStatements(settings, name, () => true),
    ],
  };
  return {
    name,
    maxSessionDurationSeconds: SESSION_SECONDS.deploy,
    trust: githubTrust(
      settings,
      `repo:${settings.repository}:environment:${settings.deployEnvironment}`,
      "ProtectedEnvironmentOnly",
    ),
    permissions,
    policies: managedPolicies(permissions),
  };
}

/** The stacks that are not developer stacks: the preview, deploy and cluster stacks of the settings. */
function longLivedStacks(settings: CiSettings): string[] {
  return [
    ...new Set([
      settings.previewStack,
      settings.deployStack,
      ...(settings.clusterStack === undefined ? [] : [settings.clusterStack]),
    ]),
  ];
}

/**
 * The cleanup role's state: every stack of the project may be read (the job lists them and their outputs),
 * and written, locked and removed (`pulumi destroy --remove`), except the long-lived stacks, whose state an
 * explicit deny keeps out of reach; secrets only with the developer stacks' key.
 */
function developerStateStatements(settings: CiSettings, developerStacksKey: string): PolicyStatement[] {
  const s = state(settings);
  const longLived = longLivedStacks(settings);
  return [
    { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: [s.meta, `${s.checkpoint("*")}*`] },
    {
      Sid: "ListState",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: s.bucket,
      Condition: { StringLike: { "s3:prefix": [`${s.stackPrefix}*`, `${s.lockPrefix("*")}*`, ".pulumi/meta.yaml"] } },
    },
    {
      Sid: "WriteDeveloperState",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: [`${s.checkpoint("*")}*`, s.locks("*"), s.history("*"), s.backups("*")],
    },
    {
      Sid: "NotLongLivedState",
      Effect: "Deny",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: longLived.flatMap((stack) => [
        `${s.checkpoint(stack)}*`,
        s.locks(stack),
        s.history(stack),
        s.backups(stack),
      ]),
    },
    {
      Sid: "DeveloperStacksSecrets",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: developerStacksKey,
    },
  ];
}

/**
 * What the cleanup role may never touch: anything named after a long-lived stack (`<project>-<stack>` and
 * `<project>-<stack>-*`: queues, roles, repositories, topics, alarms; infra/names.ts), and the KMS keys tagged
 * with one (`Stack`, which every resource of the program carries).
 */
function longLivedDenials(settings: CiSettings): PolicyStatement[] {
  const p = partitionOf(settings);
  const { account: a, region: r, project } = settings;
  const names = longLivedStacks(settings).flatMap((stack) => [`${project}-${stack}`, `${project}-${stack}-*`]);
  return [
    {
      Sid: "NotLongLivedResources",
      Effect: "Deny",
      Action: "*",
      Resource: names.flatMap((name) => [
        `arn:${p}:sqs:${r}:${a}:${name}`,
        `arn:${p}:iam::${a}:role/${name}`,
        `arn:${p}:ecr:${r}:${a}:repository/${name}`,
        `arn:${p}:sns:${r}:${a}:${name}`,
        `arn:${p}:cloudwatch:${r}:${a}:alarm:${name}`,
      ]),
    },
    {
      Sid: "NotLongLivedKeys",
      Effect: "Deny",
      Action: "kms:*",
      Resource: `arn:${p}:kms:${r}:${a}:key/*`,
      Condition: { StringEquals: { "aws:ResourceTag/Stack": longLivedStacks(settings) } },
    },
  ];
}

/**
 * The role the developer stacks' cleanup job assumes (.github/workflows/developer-stacks.yml): trusted only for
 * jobs of the repository in the cleanup environment (`cleanupEnvironment`, deployments from `main` only). It
 * destroys developer stacks and nothing else: the `delete` actions of DEVELOPER_STACK_TYPES, scoped to this
 * project as the deploy role's are, minus everything of the long-lived stacks; the state of every stack but
 * theirs; the developer stacks' secrets key. Its Kubernetes access is cluster admin on the platform
 * (`clusterAdminPrincipalArns`), as deleting another person's namespace needs. Throws when the settings name no
 * `developerStacksKey`.
 */
export function cleanupRole(settings: CiSettings): CiRole {
  const name = ciRoleName(settings.project, "cleanup");
  const key = settings.developerStacksKey;
  if (key === undefined) throw new Error("ci/roles.ts: the cleanup role needs developerStacksKey in the settings");
  const permissions: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [
      ...developerStateStatements(settings, key),
      ...grantStatements(settings, name, (phases) => phases.has("delete"), DEVELOPER_STACK_TYPES),
      ...longLivedDenials(settings),
    ],
  };
  return {
    name,
    maxSessionDurationSeconds: SESSION_SECONDS.cleanup,
    trust: githubTrust(
      settings,
      `repo:${settings.repository}:environment:${settings.cleanupEnvironment ?? DEFAULT_CLEANUP_ENVIRONMENT}`,
      "CleanupEnvironmentOnly",
    ),
    permissions,
    policies: managedPolicies(permissions),
  };
}

/** The GitHub environment of the cleanup job when the settings name none. */
export const DEFAULT_CLEANUP_ENVIRONMENT = "developer-stacks";

/** The CI roles the settings call for: preview and deploy, and cleanup when developer stacks keep secrets with a key. */
export function ciRoles(settings: CiSettings): CiRole[] {
  return [
    previewRole(settings),
    deployRole(settings),
    ...(settings.developerStacksKey === undefined ? [] : [cleanupRole(settings)]),
  ];
}

/**
 * The permissions boundary for every role the program creates (`rolePermissionsBoundary`): whatever
 * policies a role is given, it can do no more than a role of this program needs. A consumer or scaler role
 * reads and deletes messages of this project's queues; a node role and the cluster role act as the AWS
 * managed policies they carry allow (their actions transcribed from the AWS managed policy reference,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ : AmazonEKSClusterPolicy v10,
 * AmazonEKSWorkerNodePolicy v3, AmazonEKS_CNI_Policy v6, AmazonEC2ContainerRegistryPullOnly v1, and for EKS
 * Auto Mode AmazonEKSComputePolicy, AmazonEKSBlockStoragePolicy, AmazonEKSLoadBalancingPolicy,
 * AmazonEKSNetworkingPolicy and AmazonEKSWorkerNodeMinimalPolicy). No IAM action is allowed but the
 * service-linked roles those policies create and, for Auto Mode, putting a node role of this project into an
 * EKS instance profile and passing it to EC2 (AmazonEKSComputePolicy passes any role to EC2; the boundary
 * narrows it to this project's), so a role under this boundary cannot create or change roles, users or
 * policies: a developer who may create roles cannot create an admin.
 */
export function permissionsBoundary(
  settings: Pick<CiSettings, "account" | "region" | "project" | "partition">,
): PolicyDocument {
  const p = settings.partition ?? "aws";
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ConsumeQueuesOfThisProject",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        Resource: `arn:${p}:sqs:${settings.region}:${settings.account}:${settings.project}-*`,
      },
      {
        Sid: "NodesAndControlPlane",
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:UpdateAutoScalingGroup",
          "ec2:AssignPrivateIpAddresses",
          "ec2:AttachNetworkInterface",
          "ec2:AttachVolume",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:CreateNetworkInterface",
          "ec2:CreateRoute",
          "ec2:CreateSecurityGroup",
          "ec2:CreateTags",
          "ec2:CreateVolume",
          "ec2:DeleteNetworkInterface",
          "ec2:DeleteRoute",
          "ec2:DeleteSecurityGroup",
          "ec2:DeleteVolume",
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeInstanceTopology",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeInstances",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeRouteTables",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeTags",
          "ec2:DescribeVolumes",
          "ec2:DescribeVolumesModifications",
          "ec2:DescribeVpcs",
          "ec2:DetachNetworkInterface",
          "ec2:DetachVolume",
          "ec2:ModifyInstanceAttribute",
          "ec2:ModifyNetworkInterfaceAttribute",
          "ec2:ModifyVolume",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:UnassignPrivateIpAddresses",
          "ecr:BatchGetImage",
          "ecr:BatchImportUpstreamImage",
          "ecr:GetAuthorizationToken",
          "ecr:GetDownloadUrlForLayer",
          "eks-auth:AssumeRoleForPodIdentity",
          "eks:DescribeCluster",
          "elasticloadbalancing:AddTags",
          "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
          "elasticloadbalancing:AttachLoadBalancerToSubnets",
          "elasticloadbalancing:ConfigureHealthCheck",
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:CreateLoadBalancer",
          "elasticloadbalancing:CreateLoadBalancerListeners",
          "elasticloadbalancing:CreateLoadBalancerPolicy",
          "elasticloadbalancing:CreateTargetGroup",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:DeleteLoadBalancerListeners",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
          "elasticloadbalancing:DeregisterTargets",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeLoadBalancerPolicies",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DetachLoadBalancerFromSubnets",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
          "elasticloadbalancing:RegisterTargets",
          "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
          "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
          "kms:DescribeKey",
        ],
        Resource: "*",
      },
      {
        // EKS Auto Mode launches instances, volumes, load balancers and network interfaces with the cluster role.
        Sid: "AutoModeCompute",
        Effect: "Allow",
        Action: [
          "acm:DescribeCertificate",
          "acm:ListCertificates",
          "cognito-idp:DescribeUserPoolClient",
          "ec2:AssignIpv6Addresses",
          "ec2:AssociateTrunkInterface",
          "ec2:CreateSnapshot",
          "ec2:DescribeCapacityReservations",
          "ec2:DescribeClassicLinkInstances",
          "ec2:DescribeCoipPools",
          "ec2:DescribeIpamPools",
          "ec2:DescribeVpcClassicLink",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DisassociateTrunkInterface",
          "ec2:EnableFastSnapshotRestores",
          "ec2:GetCoipPoolUsage",
          "ec2:GetSecurityGroupsForVpc",
          "ec2:UnassignIpv6Addresses",
          "elasticloadbalancing:AddListenerCertificates",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:ModifyCapacityReservation",
          "elasticloadbalancing:ModifyIpPools",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:RemoveListenerCertificates",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetRulePriorities",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:SetWebAcl",
          "shield:CreateProtection",
          "shield:DeleteProtection",
          "shield:TagResource",
          "wafv2:AssociateWebACL",
          "wafv2:DisassociateWebACL",
          "wafv2:GetWebACL",
          "wafv2:GetWebACLForResource",
          "wafv2:ListWebACLs",
        ],
        Resource: "*",
      },
      {
        // Instances only for a cluster of this project: Auto Mode tags every launch with its cluster's name.
        Sid: "AutoModeLaunchesOnlyThisProjectsClusterNodes",
        Effect: "Allow",
        Action: ["ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:RunInstances"],
        Resource: "*",
        Condition: { StringLike: { "aws:RequestTag/eks:eks-cluster-name": `${settings.project}-*` } },
      },
      {
        Sid: "AutoModeNodeInstanceProfiles",
        Effect: "Allow",
        Action: "iam:AddRoleToInstanceProfile",
        Resource: `arn:${p}:iam::${settings.account}:instance-profile/eks*`,
      },
      {
        Sid: "AutoModePassesOnlyThisProjectsNodeRoles",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: `arn:${p}:iam::${settings.account}:role/${settings.project}-*`,
        Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
      },
      {
        Sid: "SpotServiceLinkedRoleOnly",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: `arn:${p}:iam::${settings.account}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`,
        Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
      },
      {
        Sid: "LoadBalancerServiceLinkedRoleOnly",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
    ],
  };
}

/** What `npm run ci:roles` reads: the settings, as JSON. */
function readSettings(file: string): CiSettings {
  return JSON.parse(readFileSync(file, "utf8")) as CiSettings;
}

/** A shell word: single-quoted, with any single quote closed, escaped and reopened. */
function shellWord(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * The AWS CLI commands that create the boundary policy, the CI roles and their managed policies, as a
 * bash script (docs/DEPLOY.md, "Bootstrap", step 5). Policy ARNs follow from the names
 * (`arn:<partition>:iam::<account>:policy/<name>`), so the script needs no output of one command in the next.
 */
export function createRolesScript(settings: CiSettings): string {
  const p = partitionOf(settings);
  const policyArn = (name: string) => `arn:${p}:iam::${settings.account}:policy/${name}`;
  const json = (document: PolicyDocument) => shellWord(JSON.stringify(document));
  const lines = [
    "#!/usr/bin/env bash",
    "# Generated by `npm run ci:roles -- <settings.json> --aws-cli` from ci/roles.ts; review before running.",
    "set -euo pipefail",
    `aws iam create-policy --policy-name ${boundaryPolicyName(settings.project)} --policy-document ${json(permissionsBoundary(settings))}`,
  ];
  for (const role of ciRoles(settings)) {
    lines.push(
      `aws iam create-role --role-name ${role.name} --max-session-duration ${role.maxSessionDurationSeconds} --assume-role-policy-document ${json(role.trust)}`,
    );
    role.policies.forEach((policy, i) => {
      lines.push(`aws iam create-policy --policy-name ${role.name}-${i} --policy-document ${json(policy)}`);
      lines.push(`aws iam attach-role-policy --role-name ${role.name} --policy-arn ${policyArn(`${role.name}-${i}`)}`);
    });
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  const [file, format] = process.argv.slice(2);
  if (file === undefined || (format !== undefined && format !== "--aws-cli")) {
    console.error("usage: npm run ci:roles -- <settings.json> [--aws-cli]   (fields: see CiSettings in ci/roles.ts)");
    process.exitCode = 64;
  } else if (format === "--aws-cli") {
    process.stdout.write(createRolesScript(readSettings(file)));
  } else {
    const settings = readSettings(file);
    console.log(
      JSON.stringify(
        {
          preview: previewRole(settings),
          deploy: deployRole(settings),
          ...(settings.developerStacksKey === undefined ? {} : { cleanup: cleanupRole(settings) }),
          boundary: { name: boundaryPolicyName(settings.project), document: permissionsBoundary(settings) },
        },
        null,
        2,
      ),
    );
  }
}
