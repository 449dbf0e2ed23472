/**
 * The table of project config keys (`<project>:<key>`, the project named in Pulumi.yaml), grouped by
 * concern: the one source of Pulumi.yaml's `config:` section, which `npm run docs` generates from it (same
 * keys, types, defaults and descriptions; test/pulumi-yaml.test.ts checks the committed file is current).
 * The defaults apply in the program too, so it behaves the same whether or not the Pulumi CLI merged
 * Pulumi.yaml's defaults in. `CONFIG_KEYS` lists the groups in Pulumi.yaml's order.
 */
/**
 * The project name this repository ships with. The program reads its keys under the running project's
 * name (`pulumi.getProject()`), so renaming the project in Pulumi.yaml keeps every key working; keys
 * left under this name after a rename are rejected (parse.ts `unknownKeys`).
 */
export const PROJECT = "sqs-eks-consumer";

/**
 * Where the cluster comes from: this stack creates it, borrows the cluster of a create-mode stack of this
 * project (a StackReference), or adopts an EKS cluster by name (looked up, never changed).
 */
export const CLUSTER_MODES = ["create", "borrow", "adopt"] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];

/**
 * Keys this project no longer reads, and what replaced them. A stack file that still sets one fails at
 * preview with this reason (parse.ts `unknownKeys`), not just "unknown key".
 */
export const FORMER_KEYS: Readonly<Record<string, string>> = {
  developerStacks:
    'replaced by developers, which lists people (<person>=<IAM role or user ARN>), not stacks: developer stacks now make their own namespaces. Destroy the stacks listed here first, then set developers (docs/DEPLOY.md, "Developer stacks")',
};

/**
 * Earlier names of the cluster modes. A stack file that still says one fails at preview, naming the new
 * name (cluster.ts), rather than falling back to another mode.
 */
export const FORMER_CLUSTER_MODES: Readonly<Record<string, ClusterMode>> = { stack: "borrow", existing: "adopt" };

/** How the consumer's pods get AWS credentials (cluster.ts; infra/identity.ts). */
export const IDENTITY_MODES = ["irsa", "pod-identity"] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

export const IMAGE_PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type ImagePlatform = (typeof IMAGE_PLATFORMS)[number];

export const QUEUE_TYPES = ["standard", "fifo"] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

/**
 * How a created cluster gets nodes: EKS Auto Mode (AWS-managed Karpenter launches nodes for pending pods and
 * removes idle ones; EKS user guide, "Automate cluster infrastructure with EKS Auto Mode"), one managed node
 * group of fixed size (nothing grows it: its desired nodes must hold every pod; cross-checks.ts), or, while a
 * node-group stack moves to Auto Mode, both: Auto Mode enabled beside the node group, its add-ons and its Pod
 * Identity agent, until the group's nodes are drained (docs/DEPLOY.md, "From a node group to Auto Mode, without
 * losing messages").
 */
export const NODE_PROVISIONING_MODES = ["auto-mode", "node-group", "auto-mode-with-node-group"] as const;
export type NodeProvisioning = (typeof NODE_PROVISIONING_MODES)[number];

export const AUTOSCALING_MODES = ["off", "keda"] as const;
export type AutoscalingMode = (typeof AUTOSCALING_MODES)[number];

/** The region a stack deploys to unless it sets `aws:region` (Pulumi.yaml carries the same value). */
export const DEFAULT_REGION = "us-west-2";

/** The stack config key of the consumer's tunables block (an object, so Pulumi.yaml cannot declare it). */
export const CONSUMER_KEY = "consumer";

/**
 * A condition, on one other key, for a key to have any effect: that key's value is `is`, or it is set
 * (non-empty) or left empty (`set`). Where the condition fails, the key must keep its default
 * (applies-when.ts), so a setting that would do nothing is never accepted in silence.
 */
export type AppliesWhen =
  | { readonly key: "autoscaling"; readonly is: AutoscalingMode }
  | { readonly key: "identity"; readonly is: IdentityMode }
  | { readonly key: "nodeProvisioning"; readonly is: NodeProvisioning | readonly NodeProvisioning[] }
  | { readonly key: "queueType"; readonly is: QueueType }
  | { readonly key: "ephemeral"; readonly is: boolean }
  | { readonly key: "vpcId" | "otlpEndpoint"; readonly set: boolean };

/** What every key spec carries besides its type: the conditions under which it has an effect. */
interface Scoped {
  readonly description: string;
  /** The cluster mode this key belongs to; in other modes it must keep its default. */
  readonly mode?: ClusterMode;
  /** The other key's setting this key needs (checked after `mode`); elsewhere it must keep its default. */
  readonly appliesWhen?: AppliesWhen;
}

interface StringKey extends Scoped {
  readonly type: "string";
  readonly default: string;
}

interface IntegerKey extends Scoped {
  readonly type: "integer";
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

interface BooleanKey extends Scoped {
  readonly type: "boolean";
  readonly default: boolean;
}

interface StringArrayKey extends Scoped {
  readonly type: "array";
  readonly default: readonly string[];
}

const WITH_VPC_ID = { key: "vpcId", set: true } as const satisfies AppliesWhen;
const WITHOUT_VPC_ID = { key: "vpcId", set: false } as const satisfies AppliesWhen;
const FIFO_ONLY = { key: "queueType", is: "fifo" } as const satisfies AppliesWhen;
const KEDA_ONLY = { key: "autoscaling", is: "keda" } as const satisfies AppliesWhen;
const WITH_OTLP_ENDPOINT = { key: "otlpEndpoint", set: true } as const satisfies AppliesWhen;
const LONG_LIVED_ONLY = { key: "ephemeral", is: false } as const satisfies AppliesWhen;
/** The managed node group's keys: Auto Mode picks instances and runs the networking add-ons itself. */
const NODE_GROUP_ONLY = {
  key: "nodeProvisioning",
  is: ["node-group", "auto-mode-with-node-group"],
} as const satisfies AppliesWhen;
const POD_IDENTITY_ONLY = { key: "identity", is: "pod-identity" } as const satisfies AppliesWhen;

export type ConfigKeySpec = StringKey | IntegerKey | BooleanKey | StringArrayKey;

/** Where the cluster comes from and, in create mode, its version, managed nodes and users (cluster.ts). */
export const CLUSTER_KEYS = {
  clusterMode: {
    type: "string",
    default: "create",
    description:
      "Where the cluster comes from: create (a new EKS cluster), borrow (the cluster of a create-mode stack of this project), adopt (an EKS cluster by name, looked up and never changed).",
  },
  clusterStack: {
    type: "string",
    default: "",
    mode: "borrow",
    description:
      "borrow mode: the create-mode stack whose cluster to borrow, as <organization>/sqs-eks-consumer/<stack>.",
  },
  ttlHours: {
    type: "integer",
    default: 72,
    min: 1,
    max: 2160,
    unit: "hours",
    mode: "borrow",
    description:
      "borrow mode: how long this stack may go without a pulumi up before the cleanup job destroys it (npm run developer-stacks).",
  },
  clusterName: {
    type: "string",
    default: "",
    mode: "adopt",
    description:
      "adopt mode: name of the EKS cluster to adopt; it must already have an IAM OIDC provider for identity irsa or autoscaling keda, and the eks-pod-identity-agent add-on for identity pod-identity.",
  },
  kubernetesVersion: {
    type: "string",
    default: "",
    mode: "create",
    description:
      "create mode: Kubernetes minor version (e.g. 1.34) of the control plane and nodes; empty: EKS's default at creation, then EKS's own upgrades are kept. Raise one minor at a time (docs/DEPLOY.md).",
  },
  nodeProvisioning: {
    type: "string",
    default: "",
    mode: "create",
    description:
      'create mode: how the cluster gets nodes: auto-mode (EKS Auto Mode launches nodes for pending pods and removes idle ones) or node-group (one managed node group of nodeDesiredCount nodes, which nothing grows), or auto-mode-with-node-group (both, only while moving a node-group stack to Auto Mode); empty: auto-mode for a new stack, while a stack whose cluster was created before this key existed must set it (it has a node group). Recorded: a later change is refused at preview. docs/DEPLOY.md, "Nodes".',
  },
  nodeInstanceType: {
    type: "string",
    default: "t3.medium",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description:
      "create mode, node-group: EC2 instance type of the managed nodes; its architecture must match imagePlatform.",
  },
  nodeMinCount: {
    type: "integer",
    default: 1,
    min: 0,
    max: 100,
    unit: "nodes",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description: "create mode, node-group: fewest managed nodes.",
  },
  nodeDesiredCount: {
    type: "integer",
    default: 2,
    min: 0,
    max: 100,
    unit: "nodes",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description:
      "create mode, node-group: managed nodes, between nodeMinCount and nodeMaxCount; nothing changes their number, so they must hold every pod at once (checked at preview).",
  },
  nodeMaxCount: {
    type: "integer",
    default: 3,
    min: 1,
    max: 100,
    unit: "nodes",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description: "create mode, node-group: most managed nodes.",
  },
  clusterAdminPrincipalArns: {
    type: "array",
    default: [],
    mode: "create",
    description:
      "create mode: IAM role or user ARNs granted cluster admin (the platform's administrators); not the identity that creates the cluster, which EKS makes admin itself.",
  },
  developers: {
    type: "array",
    default: [],
    mode: "create",
    description:
      "create mode: people who may run developer stacks on this cluster, as <person>=<IAM role or user ARN> (a principal of their own) or <person>=<IAM role ARN> session=<role session name> (a role people share, such as an IAM Identity Center permission set's). Each then creates and destroys stacks named <person> or <person>-<anything> without an administrator.",
  },
  developerCleanupPrincipalArn: {
    type: "string",
    default: "",
    mode: "create",
    description:
      "create mode: IAM role ARN of the developer stacks' cleanup job (ci-<project>-cleanup); its access entry may read the developer directory and delete developer namespaces, nothing else (not cluster admin). Empty: no cleanup job.",
  },
  developerPods: {
    type: "integer",
    default: 4,
    min: 1,
    max: 100,
    unit: "pods",
    mode: "create",
    description:
      "create mode: pods each developer stack may run at once (its namespace's ResourceQuota); the nodes must hold one stack's share for each listed person.",
  },
  developerCpuMillicores: {
    type: "integer",
    default: 500,
    min: 100,
    max: 64_000,
    unit: "millicores",
    mode: "create",
    description: "create mode: CPU each developer stack's pods may request in total (ResourceQuota requests.cpu).",
  },
  developerMemoryMiB: {
    type: "integer",
    default: 1024,
    min: 128,
    max: 262_144,
    unit: "MiB",
    mode: "create",
    description:
      "create mode: memory each developer stack's pods may request, and be limited to, in total (ResourceQuota requests.memory and limits.memory).",
  },
  ciDeployRoleArn: {
    type: "string",
    default: "",
    mode: "create",
    description:
      "create mode: ARN of the IAM role the CI deploy job runs pulumi as (ci/roles.ts); it gets cluster admin through an access entry of this stack. Empty: none.",
  },
  ciPreviewRoleArn: {
    type: "string",
    default: "",
    mode: "create",
    description:
      "create mode: ARN of the IAM role the CI preview job runs pulumi as (ci/roles.ts); it gets view access (AmazonEKSViewPolicy) through an access entry of this stack. Empty: none.",
  },
  vpcCniAddonVersion: {
    type: "string",
    default: "",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description:
      "create mode, node-group: version of the vpc-cni add-on (aws eks describe-addon-versions); empty: EKS's default for the cluster's Kubernetes version when the add-on is created, then kept.",
  },
  kubeProxyAddonVersion: {
    type: "string",
    default: "",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description:
      "create mode, node-group: version of the kube-proxy add-on; empty: EKS's default for the cluster's Kubernetes version when the add-on is created, then kept.",
  },
  corednsAddonVersion: {
    type: "string",
    default: "",
    mode: "create",
    appliesWhen: NODE_GROUP_ONLY,
    description:
      "create mode, node-group: version of the coredns add-on; empty: EKS's default for the cluster's Kubernetes version when the add-on is created, then kept.",
  },
  podIdentityAgentAddonVersion: {
    type: "string",
    default: "",
    mode: "create",
    appliesWhen: POD_IDENTITY_ONLY,
    description:
      "create mode, node-group, pod-identity: version of the eks-pod-identity-agent add-on (Auto Mode runs the agent itself); empty: EKS's default for the cluster's Kubernetes version when the add-on is created, then kept.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** The created cluster's network and API endpoint access (network.ts). */
export const NETWORK_KEYS = {
  vpcId: {
    type: "string",
    default: "",
    mode: "create",
    description:
      "create mode: an existing VPC to use (with privateSubnetIds); empty: create one. Fixed once the cluster exists, like every network key (docs/DEPLOY.md).",
  },
  privateSubnetIds: {
    type: "array",
    default: [],
    mode: "create",
    appliesWhen: WITH_VPC_ID,
    description:
      "create mode, with vpcId: subnets for the nodes, in at least two Availability Zones, giving instances no public IP; fixed once the cluster exists.",
  },
  publicSubnetIds: {
    type: "array",
    default: [],
    mode: "create",
    appliesWhen: WITH_VPC_ID,
    description:
      "create mode, with vpcId: subnets for internet-facing load balancers (optional); fixed once the cluster exists.",
  },
  vpcCidr: {
    type: "string",
    default: "10.0.0.0/16",
    mode: "create",
    appliesWhen: WITHOUT_VPC_ID,
    description:
      "create mode, without vpcId: IPv4 range of the created VPC, /16 to /20; fixed once the cluster exists.",
  },
  availabilityZoneCount: {
    type: "integer",
    default: 2,
    min: 2,
    max: 6,
    unit: "zones",
    mode: "create",
    appliesWhen: WITHOUT_VPC_ID,
    description:
      "create mode, without vpcId: Availability Zones of the created VPC, each with a private and a public subnet; fixed once the cluster exists.",
  },
  natGateways: {
    type: "string",
    default: "perZone",
    mode: "create",
    appliesWhen: WITHOUT_VPC_ID,
    description:
      "create mode, without vpcId: perZone (a NAT gateway per zone: egress survives a zone failure) or single (one, cheaper).",
  },
  endpointPublicAccessCidrs: {
    type: "array",
    default: [],
    mode: "create",
    description:
      "create mode: CIDRs that may reach the cluster's public API endpoint (where pulumi and kubectl run); empty: no public endpoint, private access only.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** The consumer image's platform, checked against the nodes (cluster.ts). */
export const PLATFORM_KEYS = {
  imagePlatform: {
    type: "string",
    default: "linux/amd64",
    description:
      "Platform the consumer image is built for (linux/amd64 or linux/arm64); must match the nodes' architecture.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** How the consumer's pods authenticate to AWS, through the cluster (cluster.ts). */
export const IDENTITY_KEYS = {
  identity: {
    type: "string",
    default: "irsa",
    description:
      "How the consumer's pods get AWS credentials: irsa (IAM Roles for Service Accounts, through the cluster's OIDC provider) or pod-identity (EKS Pod Identity: an association and the eks-pod-identity-agent add-on). Switching is safe while the consumer runs; see docs/DEPLOY.md.",
  },
  rolePermissionsBoundary: {
    type: "string",
    default: "",
    description:
      "ARN of the IAM managed policy every role this stack creates carries as its permissions boundary (ci/roles.ts builds one: docs/DEPLOY.md, Bootstrap); empty: none.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** The consumer pods' count and resources (workload.ts). */
export const WORKLOAD_KEYS = {
  replicas: {
    type: "integer",
    default: 2,
    min: 1,
    max: 100,
    unit: "pods",
    description: "Consumer pods.",
  },
  cpuRequestMillicores: {
    type: "integer",
    default: 100,
    min: 10,
    max: 64_000,
    unit: "millicores",
    description: "CPU request of each consumer pod.",
  },
  cpuLimitMillicores: {
    type: "integer",
    default: 500,
    min: 10,
    max: 64_000,
    unit: "millicores",
    description: "CPU limit of each consumer pod (at least the request).",
  },
  memoryRequestMiB: {
    type: "integer",
    default: 128,
    min: 32,
    max: 262_144,
    unit: "MiB",
    description: "Memory request of each consumer pod.",
  },
  memoryLimitMiB: {
    type: "integer",
    default: 256,
    min: 64,
    max: 262_144,
    unit: "MiB",
    description:
      "Memory limit of each consumer pod (at least the request); Node's heap is sized from it (old space 75%, semi-space 1/16).",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** The queue and its dead-letter queue (queue.ts). */
export const QUEUE_KEYS = {
  queueType: {
    type: "string",
    default: "standard",
    description:
      "standard, or fifo: a FIFO queue and a FIFO dead-letter queue (names end in .fifo); the consumer handles each message group in order. Changing it replaces both queues: refused on a long-lived stack unless allowQueueReplacement (docs/DEPLOY.md).",
  },
  contentBasedDeduplication: {
    type: "boolean",
    default: false,
    appliesWhen: FIFO_ONLY,
    description: "fifo only: SQS deduplicates a send without MessageDeduplicationId by the SHA-256 of its body.",
  },
  fifoHighThroughput: {
    type: "boolean",
    default: true,
    appliesWhen: FIFO_ONLY,
    description:
      "fifo only: high-throughput mode (deduplication and throughput limit per message group: deduplicationScope messageGroup, fifoThroughputLimit perMessageGroupId).",
  },
  maxReceiveCount: {
    type: "integer",
    default: 5,
    min: 1,
    max: 1_000,
    unit: "receives",
    description: "Receives after which SQS moves a message to the dead-letter queue.",
  },
  maxMessageSizeBytes: {
    type: "integer",
    default: 262_144,
    min: 1_024,
    max: 1_048_576,
    unit: "bytes",
    description:
      "Largest message the queue and its dead-letter queue accept (SQS rejects larger sends; default 256 KiB, the AWS provider's). The consumer sizes its receives by it, so a smaller value lets a small memory limit receive more messages at once.",
  },
  messageRetentionSeconds: {
    type: "integer",
    default: 345_600,
    min: 60,
    max: 1_209_600,
    unit: "s",
    description: "How long the queue keeps a message (default 4 days).",
  },
  dlqMessageRetentionSeconds: {
    type: "integer",
    default: 1_209_600,
    min: 60,
    max: 1_209_600,
    unit: "s",
    description: "How long the dead-letter queue keeps a message (default 14 days); at least messageRetentionSeconds.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** Autoscaling on queue depth with KEDA (autoscaling.ts); docs/AUTOSCALING.md explains each choice. */
export const AUTOSCALING_KEYS = {
  autoscaling: {
    type: "string",
    default: "off",
    description:
      "off (the Deployment runs `replicas` pods) or keda (KEDA scales it on queue depth between minReplicas and maxReplicas; `replicas` is then the count held while the queue cannot be read).",
  },
  minReplicas: {
    type: "integer",
    default: 0,
    min: 0,
    max: 100,
    unit: "pods",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: fewest consumer pods; 0 scales to zero when the queue is quiet.",
  },
  maxReplicas: {
    type: "integer",
    default: 10,
    min: 1,
    max: 100,
    unit: "pods",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: most consumer pods.",
  },
  messagesPerPod: {
    type: "integer",
    default: 0,
    min: 0,
    max: 100_000,
    unit: "messages",
    appliesWhen: KEDA_ONLY,
    description:
      "autoscaling: target messages (visible + in flight) per pod, KEDA's queueLength; 0 means consumer.handlerConcurrency.",
  },
  activationMessages: {
    type: "integer",
    default: 0,
    min: 0,
    max: 100_000,
    unit: "messages",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: the first pod starts once the queue holds more than this many messages.",
  },
  pollingIntervalSeconds: {
    type: "integer",
    default: 15,
    min: 1,
    max: 3_600,
    unit: "s",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: how often KEDA reads the queue's depth.",
  },
  cooldownPeriodSeconds: {
    type: "integer",
    default: 300,
    min: 0,
    max: 86_400,
    unit: "s",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: with minReplicas 0, how long the queue stays empty before the last pod goes.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** CloudWatch alarms and where they go (observability.ts). */
export const ALARM_KEYS = {
  alarmEmails: {
    type: "array",
    default: [],
    description:
      "Email addresses subscribed to the stack's alarm topic (each must confirm the subscription AWS mails them).",
  },
  alarmMessageAgeSeconds: {
    type: "integer",
    default: 0,
    min: 0,
    max: 1_209_600,
    unit: "s",
    description:
      "Alarm when the queue's oldest message is older than this; 0 derives it from the handler timeout and maxReceiveCount.",
  },
  alarmMaxReplicasMinutes: {
    type: "integer",
    default: 15,
    min: 1,
    // One-minute periods, so evaluation periods x 60 s; CloudWatch caps that product at 86,400 s (one day):
    // CloudWatch API Reference, PutMetricAlarm, EvaluationPeriods.
    max: 1_440,
    unit: "minutes",
    appliesWhen: KEDA_ONLY,
    description: "autoscaling: alarm when the consumer has run at its most replicas for this long.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** Traces and Prometheus Operator objects (observability.ts). */
export const TELEMETRY_KEYS = {
  otlpEndpoint: {
    type: "string",
    default: "",
    description:
      "OTLP/HTTP collector base URL the consumer exports traces to (e.g. http://otel-collector.observability:4318); empty: no tracing.",
  },
  otlpProtocol: {
    type: "string",
    default: "http/protobuf",
    appliesWhen: WITH_OTLP_ENDPOINT,
    description: "with otlpEndpoint: OTLP encoding, http/protobuf or http/json.",
  },
  prometheusOperator: {
    type: "boolean",
    default: false,
    description:
      "true when the cluster runs the Prometheus Operator: adds a metrics Service, a ServiceMonitor and a PrometheusRule.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/**
 * What the stack keeps (infra/lifecycle.ts): a long-lived stack protects what holds state and refuses a change
 * that would replace its queues; an ephemeral one protects nothing, so `pulumi destroy` removes everything.
 */
export const LIFECYCLE_KEYS = {
  ephemeral: {
    type: "boolean",
    default: false,
    description:
      "true for a stack meant to be destroyed (a developer's, which clusterMode borrow requires; a test's): nothing is protected, the ECR repository is deleted with its images, a created cluster has no deletion protection, and a change that replaces the queues is applied with a warning. false (long-lived): the queues, the ECR repository and a created cluster are protected, and such a change is refused at preview (docs/DEPLOY.md, Protected state).",
  },
  allowQueueReplacement: {
    type: "boolean",
    default: false,
    appliesWhen: LONG_LIVED_ONLY,
    description:
      "long-lived only: let this update replace the queues (queueType, a stack rename, another region); the old queues stay in AWS with their messages, to drain or move with npm run redrive, then delete by hand. Remove it after the update (docs/DEPLOY.md, Replacing the queue).",
  },
} as const satisfies Record<string, ConfigKeySpec>;

/** Every key in the project's namespace except the `consumer` block, in Pulumi.yaml's order. */
export const CONFIG_KEYS = {
  ...CLUSTER_KEYS,
  ...NETWORK_KEYS,
  ...PLATFORM_KEYS,
  ...IDENTITY_KEYS,
  ...WORKLOAD_KEYS,
  ...QUEUE_KEYS,
  ...AUTOSCALING_KEYS,
  ...ALARM_KEYS,
  ...TELEMETRY_KEYS,
  ...LIFECYCLE_KEYS,
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/** The typed value of a key: what its spec's default is. */
type ValueOf<S extends ConfigKeySpec> = S["default"] extends number
  ? number
  : S["default"] extends string
    ? string
    : S["default"] extends boolean
      ? boolean
      : readonly string[];

/** Every declared key's value, parsed by its type, or its default when unset or unparsable. */
export type KeyValues = { readonly [K in ConfigKey]: ValueOf<(typeof CONFIG_KEYS)[K]> };

/** The full config key in a project's namespace, as `pulumi config set <key>` stores it: `<project>:<key>`. */
export function fullKey(project: string, key: string): string {
  return `${project}:${key}`;
}
