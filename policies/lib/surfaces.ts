/**
 * The surface table: every resource type the program registers, and the types a user could swap in for
 * the same purpose, with what each can grant or expose and the rules that judge it (or why none does).
 * docs/POLICY.md prints it; `unknown-resource-reviewed` treats every type matched here as known, and
 * advises on any other resource that carries an IAM policy document, a pod template, a network rule, a
 * policy attachment or an admission webhook.
 */

export interface Surface {
  /** What the row covers, as docs/POLICY.md names it. */
  readonly surface: string;
  /** Exact type tokens, or patterns over them. */
  readonly types: readonly (string | RegExp)[];
  /** How the table shows the types. */
  readonly shown: string;
  /** What the resource can grant or expose. */
  readonly exposes: string;
  /** The rules that judge it; empty when `decision` says why none does. */
  readonly rules: readonly string[];
  /** Why no rule (or no more than `rules`) is needed. */
  readonly decision?: string;
}

const k8s = (group: string, kinds: string): RegExp => new RegExp(`^kubernetes:${group}/[^:]+:(${kinds})(Patch)?$`);
const POD_RULES = [
  "pod-security-restricted",
  "container-read-only-root-filesystem",
  "image-pinned-by-digest",
  "image-from-allowed-registry",
  "container-resources-set",
  "no-static-aws-credentials",
  "workload-role-in-stack",
];

export const SURFACES: readonly Surface[] = [
  {
    surface: "IAM",
    types: ["aws:iam/role:Role"],
    shown: "`aws.iam.Role` (`assumeRolePolicy`, `inlinePolicies`, `managedPolicyArns`)",
    exposes: "Who may assume the role, and every permission of its inline and managed policies.",
    rules: ["role-trust-pinned", "role-least-privilege", "scaler-role-reads-queue-attributes-only"],
  },
  {
    surface: "IAM",
    types: [
      "aws:iam/rolePolicy:RolePolicy",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
      "aws:iam/policyAttachment:PolicyAttachment",
      "aws:iam/policy:Policy",
    ],
    shown:
      "`aws.iam.RolePolicy`, `RolePolicyAttachment`, `RolePolicyAttachmentsExclusive` (`policyArns`), `PolicyAttachment` (`roles`), `Policy`",
    exposes: "A permissions document or a policy ARN (AWS managed, or any account's) reaching a role.",
    rules: ["role-least-privilege", "scaler-role-reads-queue-attributes-only"],
    decision:
      "A `Policy` attached to nothing grants nothing; attached, its document is judged against each role it reaches.",
  },
  {
    surface: "IAM",
    types: ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"],
    shown: "`aws.iam.RolePoliciesExclusive`",
    exposes: "Names a role's inline policies; the documents arrive through `RolePolicy` or `inlinePolicies`.",
    rules: ["role-least-privilege"],
    decision: "Adds no document of its own; a reference to a role outside the stack is reported.",
  },
  {
    surface: "IAM",
    types: ["aws:iam/accessKey:AccessKey"],
    shown: "`aws.iam.AccessKey`",
    exposes: "A long-lived access key.",
    rules: ["no-static-aws-credentials"],
  },
  {
    surface: "IAM",
    types: [
      /^aws:iam\/(user|group|userPolicy|groupPolicy|userPolicyAttachment|groupPolicyAttachment|userPoliciesExclusive|groupPoliciesExclusive|userPolicyAttachmentsExclusive|groupPolicyAttachmentsExclusive|groupMembership|userGroupMembership|userLoginProfile):/,
      /^aws:ssoadmin\/(managedPolicyAttachment|managedPolicyAttachmentsExclusive|customerManagedPolicyAttachment|permissionSetInlinePolicy):/,
    ],
    shown:
      "`aws.iam.User`/`Group` and their policies and attachments; `aws.ssoadmin.ManagedPolicyAttachment(s)`, `CustomerManagedPolicyAttachment`, `PermissionSetInlinePolicy`",
    exposes:
      "Permissions for people (IAM users and groups, Identity Center permission sets), not for roles of the stack.",
    rules: ["unknown-resource-reviewed"],
    decision:
      "The program creates none and no workload can use them without an access key (rejected); any that carries a document or a policy ARN gets the advisory so a person reviews it.",
  },
  {
    surface: "IAM",
    types: ["aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:iam/instanceProfile:InstanceProfile"],
    shown: "`aws.iam.OpenIdConnectProvider`, `InstanceProfile`",
    exposes: "A federation anchor that trust policies name; a role handed to EC2.",
    rules: [],
    decision:
      "Neither grants anything alone: the trust statements naming a provider and the roles in a profile are judged by `role-trust-pinned` and `role-least-privilege`.",
  },
  {
    surface: "EKS",
    types: ["eks:index:Cluster", "aws:eks/cluster:Cluster"],
    shown:
      "`eks.Cluster`, `aws.eks.Cluster` (`endpointPublicAccess`, `publicAccessCidrs`, `accessEntries`, Auto Mode `computeConfig`)",
    exposes: "The API endpoint to the internet; cluster access for principals; the default node group.",
    rules: ["cluster-endpoint-restricted", "cluster-access-scoped", "node-group-launch-template"],
    decision:
      "Auto Mode's `computeConfig.nodeRoleArn` names the node role, which `role-least-privilege` judges as a node role when the stack defines it.",
  },
  {
    surface: "EKS",
    types: ["aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"],
    shown: "`aws.eks.AccessEntry` (`kubernetesGroups`), `AccessPolicyAssociation` (`accessScope`)",
    exposes:
      "Kubernetes rights for an IAM principal: an access policy over the cluster or some namespaces, or RBAC groups.",
    rules: ["cluster-access-scoped", "rbac-least-privilege"],
    decision:
      "An entry with groups and no policy (developer access through RBAC) is judged by the RBAC objects that bind the groups.",
  },
  {
    surface: "EKS",
    types: ["aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:eks/addon:Addon"],
    shown:
      "`aws.eks.PodIdentityAssociation` (`roleArn`, `targetRoleArn`, `policy`), `aws.eks.Addon` (`serviceAccountRoleArn`, `podIdentityAssociations`)",
    exposes: "An IAM role for a service account's pods.",
    rules: ["workload-role-in-stack", "role-trust-pinned"],
    decision: "An association's session `policy` can only narrow the role, so it is not judged.",
  },
  {
    surface: "EKS",
    types: [
      "aws:eks/nodeGroup:NodeGroup",
      "eks:index:ManagedNodeGroup",
      "eks:index:NodeGroup",
      "eks:index:NodeGroupV2",
      "aws:ec2/launchTemplate:LaunchTemplate",
      "aws:ec2/launchConfiguration:LaunchConfiguration",
    ],
    shown:
      "`aws.eks.NodeGroup`, `eks.ManagedNodeGroup`/`NodeGroup`/`NodeGroupV2`, `aws.ec2.LaunchTemplate`/`LaunchConfiguration`",
    exposes: "The node's instance role to pods through the instance metadata service.",
    rules: ["node-group-launch-template", "launch-template-imdsv2"],
  },
  {
    surface: "EKS",
    types: [
      k8s("karpenter\\.sh", "NodePool"),
      k8s("eks\\.amazonaws\\.com", "NodeClass"),
      k8s("karpenter\\.k8s\\.aws", "EC2NodeClass"),
    ],
    shown:
      "Auto Mode/Karpenter `NodePool` (`nodeClassRef`), Auto Mode `NodeClass` (`role`, `advancedNetworking`), Karpenter `EC2NodeClass` (`role`, `instanceProfile`, `metadataOptions`)",
    exposes:
      "The node role every node (and any pod reaching IMDS) holds, the metadata service's hop limit, public IP addresses on nodes.",
    rules: ["node-class-hardened", "role-least-privilege"],
    decision:
      "A NodePool's requirements (architectures, instance families, capacity type) choose capacity, not access; only its nodeClassRef is judged. A NodeClass's security groups are selected by tag or ID: the groups the stack defines are judged by `workload-not-internet-facing`. Auto Mode sets IMDSv2 with hop limit 1 itself.",
  },
  {
    surface: "EKS",
    types: ["aws:eks/fargateProfile:FargateProfile", "aws:eks/identityProviderConfig:IdentityProviderConfig"],
    shown: "`aws.eks.FargateProfile`, `aws.eks.IdentityProviderConfig`",
    exposes: "Where pods run; users from an OIDC identity provider.",
    rules: [],
    decision:
      "Fargate gives pods no instance metadata; identity-provider users hold only what RBAC binds, which `rbac-least-privilege` judges.",
  },
  {
    surface: "SQS",
    types: [
      "aws:sqs/queue:Queue",
      "aws:sqs/queuePolicy:QueuePolicy",
      "aws:sqs/redrivePolicy:RedrivePolicy",
      "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    ],
    shown:
      "`aws.sqs.Queue` (`policy`, `redrivePolicy`, encryption), `QueuePolicy`, `RedrivePolicy`, `RedriveAllowPolicy`",
    exposes: "The messages, to anyone a queue policy allows; their loss, without a DLQ that keeps them.",
    rules: [
      "queue-encrypted",
      "queue-redrive-policy",
      "dlq-retention-covers-source",
      "dlq-type-matches-source",
      "queue-denies-insecure-transport",
      "queue-policy-grants-nothing",
      "dlq-alarmed",
    ],
  },
  {
    surface: "SNS, KMS, ECR, S3 resource policies",
    types: [
      "aws:sns/topic:Topic",
      "aws:sns/topicPolicy:TopicPolicy",
      "aws:kms/key:Key",
      "aws:kms/keyPolicy:KeyPolicy",
      "aws:ecr/repositoryPolicy:RepositoryPolicy",
      "aws:ecr/registryPolicy:RegistryPolicy",
      "aws:s3/bucketPolicy:BucketPolicy",
    ],
    shown:
      "`aws.sns.Topic` (`policy`, `kmsMasterKeyId`), `TopicPolicy`; `aws.kms.Key` (`policy`), `KeyPolicy`; `aws.ecr.RepositoryPolicy`, `RegistryPolicy`; `aws.s3.BucketPolicy`",
    exposes: "Publishing to and subscribing to alarms; using the key; pulling or pushing images; the bucket's objects.",
    rules: ["resource-policy-not-public", "alarm-topic-deliverable"],
  },
  {
    surface: "SNS, KMS, ECR, S3 resource policies",
    types: ["aws:kms/grant:Grant", "aws:kms/alias:Alias", "aws:sns/topicSubscription:TopicSubscription"],
    shown: "`aws.kms.Grant`, `aws.kms.Alias`, `aws.sns.TopicSubscription`",
    exposes: "Key use for a grantee; a name for a key; where alarm notifications go.",
    rules: ["resource-policy-not-public"],
    decision:
      "A grant to a principal outside the stack's account is reported; an alias grants nothing; a subscription receives alarm text (names and states, no message bodies) and is the alarm's purpose.",
  },
  {
    surface: "Images",
    types: [
      "aws:ecr/repository:Repository",
      "aws:ecr/lifecyclePolicy:LifecyclePolicy",
      "docker:index/image:Image",
      "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    ],
    shown: "`aws.ecr.Repository`, `LifecyclePolicy`, `docker.Image`, `aws.ecr.PullThroughCacheRule`",
    exposes: "Where images come from and whether they are scanned.",
    rules: ["ecr-scan-on-push", "ecr-lifecycle-policy", "image-from-allowed-registry"],
    decision:
      "A pull-through cache serves an upstream registry's images under the account's own ECR host; the allow-list cannot tell them apart (an accepted gap, see below). A built image is judged where a pod runs it.",
  },
  {
    surface: "Alarms",
    types: ["aws:cloudwatch/metricAlarm:MetricAlarm"],
    shown: "`aws.cloudwatch.MetricAlarm`",
    exposes: "Whether anyone hears of dead letters.",
    rules: ["dlq-alarmed", "alarm-topic-deliverable"],
  },
  {
    surface: "Pods",
    types: [
      k8s("core", "Pod|PodTemplate|ReplicationController"),
      k8s("(apps|extensions)", "Deployment|StatefulSet|DaemonSet|ReplicaSet"),
      k8s("batch", "Job|CronJob"),
      k8s("keda\\.sh", "ScaledJob"),
    ],
    shown:
      "`Pod`, `PodTemplate`, `ReplicationController`, `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`, `CronJob`, KEDA `ScaledJob`, every API version, and each `<Kind>Patch`",
    exposes:
      "Code running on a node: host access, root, privilege, unpinned or foreign images, static keys, an IAM role through `AWS_ROLE_ARN`.",
    rules: POD_RULES,
    decision:
      "A `<Kind>Patch` changes only the fields it sets, so its values are judged and the fields it leaves are not.",
  },
  {
    surface: "Kubernetes",
    types: [k8s("core", "Namespace")],
    shown: "`Namespace`, `NamespacePatch` (`pod-security.kubernetes.io/enforce`, `enforce-version`)",
    exposes: "Which pods the API server admits.",
    rules: ["namespace-enforces-restricted"],
  },
  {
    surface: "Kubernetes",
    types: [k8s("core", "ServiceAccount")],
    shown: "`ServiceAccount` (`eks.amazonaws.com/role-arn`)",
    exposes: "An IAM role for every pod that runs as it.",
    rules: ["workload-role-in-stack", "role-trust-pinned"],
  },
  {
    surface: "Kubernetes",
    types: [k8s("core", "PersistentVolume|PersistentVolumeClaim"), k8s("storage\\.k8s\\.io", "StorageClass")],
    shown: "`PersistentVolume` (`hostPath`, `local`), `PersistentVolumeClaim`, `StorageClass`",
    exposes: "A node's filesystem to the pod that claims a hostPath or local volume, past Pod Security admission.",
    rules: ["pod-security-restricted"],
    decision:
      "A claim only names a volume, and a StorageClass's provisioner creates CSI volumes; the volume itself is judged.",
  },
  {
    surface: "Kubernetes",
    types: [k8s("core", "Secret|ConfigMap")],
    shown: "`Secret`, `ConfigMap`",
    exposes: "Data pods read, where static keys could hide.",
    rules: ["no-static-aws-credentials"],
  },
  {
    surface: "Kubernetes",
    types: [k8s("core", "Service"), k8s("networking\\.k8s\\.io", "Ingress")],
    shown: "`Service` (`type`, `loadBalancerSourceRanges`, `externalIPs`), `Ingress` (ALB `scheme`, `inbound-cidrs`)",
    exposes:
      "Pods to the internet through a load balancer (source CIDRs judged by the addresses they admit together), or through external IPs every node forwards.",
    rules: ["workload-not-internet-facing"],
  },
  {
    surface: "Kubernetes",
    types: [k8s("rbac\\.authorization\\.k8s\\.io", "Role|ClusterRole|RoleBinding|ClusterRoleBinding")],
    shown: "`Role`, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding`",
    exposes: "Kubernetes rights: Secrets, pods as any service account, escalation.",
    rules: ["rbac-least-privilege"],
  },
  {
    surface: "Kubernetes",
    types: [k8s("admissionregistration\\.k8s\\.io", "ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding")],
    shown: "`ValidatingAdmissionPolicy`, `ValidatingAdmissionPolicyBinding`",
    exposes: "The fence around developers' writes.",
    rules: ["admission-policy-enforced"],
  },
  {
    surface: "Kubernetes",
    types: [
      k8s(
        "admissionregistration\\.k8s\\.io",
        "MutatingWebhookConfiguration|ValidatingWebhookConfiguration|MutatingAdmissionPolicy|MutatingAdmissionPolicyBinding",
      ),
    ],
    shown: "`MutatingWebhookConfiguration`, `ValidatingWebhookConfiguration`, `MutatingAdmissionPolicy`",
    exposes: "Rewriting or admitting pods after the pack judged them.",
    rules: ["unknown-resource-reviewed"],
    decision:
      "The program defines none outside the KEDA chart; one in the stack gets the advisory, since what it does is code the pack cannot read.",
  },
  {
    surface: "Kubernetes",
    types: [
      k8s("core", "ResourceQuota|LimitRange"),
      k8s("policy", "PodDisruptionBudget"),
      k8s("networking\\.k8s\\.io", "NetworkPolicy"),
      k8s("apiextensions\\.k8s\\.io", "CustomResourceDefinition"),
    ],
    shown: "`ResourceQuota`, `LimitRange`, `PodDisruptionBudget`, `NetworkPolicy`, `CustomResourceDefinition`",
    exposes: "Capacity, availability, traffic narrowing, new API types.",
    rules: ["pdb-for-replicated-deployments"],
    decision:
      "None grants access: quotas and limit ranges cap, network policies only narrow, a CRD adds a type whose objects need RBAC. Topology spread and disruption budgets are availability (the advisory PDB rule).",
  },
  {
    surface: "Autoscaling",
    types: [k8s("keda\\.sh", "ScaledObject")],
    shown: "KEDA `ScaledObject`",
    exposes: "Replica counts (cost), and the credentials its triggers use.",
    rules: ["scaled-object-bounded-max", "keda-trigger-credentials"],
  },
  {
    surface: "Autoscaling",
    types: [k8s("keda\\.sh", "TriggerAuthentication|ClusterTriggerAuthentication")],
    shown: "KEDA `TriggerAuthentication`, `ClusterTriggerAuthentication`",
    exposes: "The AWS identity KEDA's operator uses: a role (`podIdentity.roleArn`), or static keys.",
    rules: [
      "trigger-authentication-keda-identity",
      "keda-trigger-credentials",
      "workload-role-in-stack",
      "scaler-role-reads-queue-attributes-only",
    ],
  },
  {
    surface: "Observability",
    types: [k8s("monitoring\\.coreos\\.com", "ServiceMonitor|PodMonitor|PrometheusRule|AlertmanagerConfig|Probe")],
    shown: "Prometheus Operator `ServiceMonitor`, `PodMonitor`, `PrometheusRule`, `AlertmanagerConfig`, `Probe`",
    exposes:
      "Which endpoints Prometheus scrapes and what it alerts on; AWS keys for SNS receivers (`snsConfigs[].sigv4.accessKey`/`secretKey`).",
    rules: ["no-static-aws-credentials"],
    decision:
      "They grant nothing: Prometheus's own RBAC decides what it may read; a scrape target's metrics hold no message bodies.",
  },
  {
    surface: "Packaged objects",
    types: [
      /^kubernetes:helm\.sh\/v\d+:(Chart|Release)$/,
      /^kubernetes:yaml(\/v2)?:(ConfigGroup|ConfigFile)$/,
      /^kubernetes:kustomize(\/v2)?:Directory$/,
    ],
    shown:
      "`helm.v4.Chart`, `helm.v3.Chart`, `helm.v3.Release`, `yaml.ConfigGroup`/`ConfigFile` (v1, v2), `kustomize.Directory`",
    exposes: "Every object inside: pods, RBAC, webhooks, CRDs.",
    rules: ["packaged-objects-visible", "no-static-aws-credentials", "workload-role-in-stack"],
    decision:
      "Under `pulumi preview` a Chart's and a ConfigGroup's objects are resources of their own and every rule above judges them (offline, with `--chart-archive`); a `helm.v3.Release`'s objects never are, which `packaged-objects-visible` says.",
  },
  {
    surface: "Network",
    types: [
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:ec2/securityGroupRule:SecurityGroupRule",
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ],
    shown: "`aws.ec2.SecurityGroup`, `SecurityGroupRule`, `aws.vpc.SecurityGroupIngressRule`",
    exposes: "Ports open to the internet.",
    rules: ["workload-not-internet-facing"],
  },
  {
    surface: "Network",
    types: [
      /^aws:ec2\/(vpc|subnet|routeTable|routeTableAssociation|internetGateway|natGateway|eip|route|vpcEndpoint):/,
    ],
    shown:
      "`aws.ec2.Vpc`, `Subnet`, `RouteTable`(`Association`), `Route`, `InternetGateway`, `NatGateway`, `Eip`, `VpcEndpoint`",
    exposes: "Routes to and from the internet.",
    rules: [],
    decision:
      "Routes carry no permission: what listens is judged by the endpoint, service and security-group rules; nodes sit in private subnets whatever the routes.",
  },
  {
    surface: "Plumbing",
    types: [/^pulumi:/, /^sqs-eks-consumer:/, "eks:index:VpcCni"],
    shown: "providers, stack references, the program's components",
    exposes: "Nothing of their own: a component's children are resources the rules judge.",
    rules: ["no-static-aws-credentials"],
    decision: "A provider's kubeconfig is scanned for static keys like every other property.",
  },
];

function matches(pattern: string | RegExp, type: string): boolean {
  return typeof pattern === "string" ? pattern === type : pattern.test(type);
}

/** The row that covers `type`, if any. */
export function surfaceOf(type: string): Surface | undefined {
  return SURFACES.find((row) => row.types.some((pattern) => matches(pattern, type)));
}

/** Whether some rule other than the advisory review judges `type`, or the table records a reason why none does. */
export function isKnownType(type: string): boolean {
  const row = surfaceOf(type);
  return row !== undefined && !(row.rules.length === 1 && row.rules[0] === "unknown-resource-reviewed");
}

/** The surface table as docs/POLICY.md prints it (Markdown), one row per entry of SURFACES. */
export function renderSurfaceTable(): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const lines = ["| Surface | Types | What it can grant or expose | Rules, or why none |", "| --- | --- | --- | --- |"];
  for (const row of SURFACES) {
    const rules = row.rules.map((r) => `\`${r}\``).join(", ");
    const judged = [rules, row.decision].filter((part) => part !== undefined && part !== "").join(". ");
    lines.push(`| ${row.surface} | ${cell(row.shown)} | ${cell(row.exposes)} | ${cell(judged)} |`);
  }
  return lines.join("\n");
}
