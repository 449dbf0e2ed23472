/**
 * The program's configurations that a real account sees, recorded under mocks: every cluster mode, both
 * identity modes, autoscaling on and off, alarms with and without email, the Prometheus Operator objects,
 * FIFO queues, tracing, a created VPC and a given one, both CPU architectures. Tests that judge what the
 * program needs from AWS or from a cluster (the CI roles, the CRD schemas) run over this matrix, and
 * `matrixCoverage` says which config keys it leaves at their defaults, so a new switch is not missed.
 */
import { CONFIG_KEYS } from "../../infra/config";
import type { ExistingCluster, ExistingSubnet, ProgramRun, Scenario } from "../helpers/mocks";
import { ORGANIZATION, asPreviousUpdate, borrowing, runPrograms, scenario, type ConfigValue } from "../helpers/program";

/** The platform stack that borrowing stacks reference. */
export const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;

const EXISTING_ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567";
export const EXISTING_CLUSTERS: Readonly<Record<string, ExistingCluster>> = {
  "platform-prod": {
    nodeGroups: [{ name: "general", amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["m7i.large"] }],
    endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
    certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
    oidcIssuerUrl: EXISTING_ISSUER,
    oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/${EXISTING_ISSUER.replace("https://", "")}`,
  },
};

export const GIVEN_SUBNETS: Readonly<Record<string, ExistingSubnet>> = {
  "subnet-0aaaaaaaaaaaaaaa1": {
    vpcId: "vpc-0123456789abcdef0",
    availabilityZone: "us-west-2a",
    availabilityZoneId: "usw2-az1",
    mapPublicIpOnLaunch: false,
  },
  "subnet-0bbbbbbbbbbbbbbb2": {
    vpcId: "vpc-0123456789abcdef0",
    availabilityZone: "us-west-2b",
    availabilityZoneId: "usw2-az2",
    mapPublicIpOnLaunch: false,
  },
};

const AGENT = { "eks-pod-identity-agent": "v1.3.8-eksbuild.2" };

/** The permissions boundary the account's stacks set (all but one configuration: see ci-permissions). */
export const BOUNDARY = "arn:aws:iam::123456789012:policy/sqs-eks-consumer-role-boundary";
/** The developers' principals on the platform stack: Alice's own role, and a role Bob shares with others. */
const DEVELOPER_ROLES = {
  alice: "arn:aws:iam::123456789012:role/alice",
  shared: "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef",
} as const;
/** The sessions the developers' stacks run as (what aws.getCallerIdentity returns to each). */
const DEVELOPER_SESSIONS = {
  alice: "arn:aws:sts::123456789012:assumed-role/alice/alice",
  bob: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/bob@example.com",
} as const;

/** The CI roles, as ci/roles.ts names them. */
export const CI_DEPLOY_ROLE = "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-deploy";
export const CI_PREVIEW_ROLE = "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-preview";

/** One recorded configuration. */
export interface MatrixRun {
  readonly label: string;
  readonly scenario: Scenario;
  readonly run: ProgramRun;
}

interface Entry {
  readonly label: string;
  readonly stack: string;
  readonly values: Readonly<Record<string, ConfigValue>>;
}

/** Create-mode stacks; the first one is the platform stack the borrowing stacks reference. */
const CREATE: readonly Entry[] = [
  {
    label: "create, managed node group, own VPC, IRSA, autoscaling off",
    stack: "shared",
    values: {
      nodeProvisioning: "node-group",
      clusterAdminPrincipalArns: ["arn:aws:iam::123456789012:role/platform-admins"],
      developers: [`alice=${DEVELOPER_ROLES.alice}`, `bob=${DEVELOPER_ROLES.shared} session=bob@example.com`],
      developerCleanupPrincipalArn: "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-cleanup",
      developerPods: 3,
      developerCpuMillicores: 400,
      developerMemoryMiB: 768,
      endpointPublicAccessCidrs: ["203.0.113.0/24"],
      kubernetesVersion: "1.33",
      alarmMessageAgeSeconds: 900,
      ciDeployRoleArn: CI_DEPLOY_ROLE,
      ciPreviewRoleArn: CI_PREVIEW_ROLE,
      vpcCniAddonVersion: "v1.19.2-eksbuild.5",
      kubeProxyAddonVersion: "v1.33.0-eksbuild.2",
      corednsAddonVersion: "v1.12.1-eksbuild.2",
      rolePermissionsBoundary: BOUNDARY,
    },
  },
  {
    label:
      "create, managed node group, given VPC, Pod Identity, KEDA, FIFO, alarms by email, Prometheus Operator, tracing",
    stack: "orders",
    values: {
      nodeProvisioning: "node-group",
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: Object.keys(GIVEN_SUBNETS),
      publicSubnetIds: ["subnet-0ccccccccccccccc3"],
      identity: "pod-identity",
      autoscaling: "keda",
      minReplicas: 1,
      maxReplicas: 6,
      messagesPerPod: 20,
      activationMessages: 2,
      pollingIntervalSeconds: 30,
      cooldownPeriodSeconds: 600,
      alarmMaxReplicasMinutes: 30,
      queueType: "fifo",
      contentBasedDeduplication: true,
      fifoHighThroughput: false,
      alarmEmails: ["oncall@example.com"],
      prometheusOperator: true,
      otlpEndpoint: "http://otel-collector.observability:4318",
      otlpProtocol: "http/json",
      replicas: 3,
      cpuRequestMillicores: 200,
      cpuLimitMillicores: 1000,
      memoryRequestMiB: 256,
      memoryLimitMiB: 512,
      maxReceiveCount: 9,
      maxMessageSizeBytes: 65_536,
      messageRetentionSeconds: 86_400,
      dlqMessageRetentionSeconds: 604_800,
      nodeMinCount: 2,
      nodeDesiredCount: 3,
      nodeMaxCount: 6,
      podIdentityAgentAddonVersion: "v1.3.8-eksbuild.2",
      rolePermissionsBoundary: BOUNDARY,
    },
  },
  {
    label: "create, managed node group, own VPC, arm64, one NAT gateway, three zones, ephemeral",
    stack: "graviton",
    values: {
      nodeProvisioning: "node-group",
      ephemeral: true,
      imagePlatform: "linux/arm64",
      nodeInstanceType: "m7g.large",
      natGateways: "single",
      availabilityZoneCount: 3,
      vpcCidr: "10.20.0.0/18",
    },
  },
  {
    label: "create, EKS Auto Mode, own VPC, Pod Identity, KEDA, arm64 NodePool",
    stack: "auto",
    values: {
      identity: "pod-identity",
      autoscaling: "keda",
      maxReplicas: 40,
      imagePlatform: "linux/arm64",
      rolePermissionsBoundary: BOUNDARY,
    },
  },
];

/** Records the whole matrix (create-mode stacks first, then the stacks that borrow or adopt). */
export async function recordMatrix(): Promise<MatrixRun[]> {
  const created = await Promise.all(
    CREATE.map(async (entry) => ({
      label: entry.label,
      scenario: await scenario(entry.stack, entry.values, { subnets: GIVEN_SUBNETS }),
    })),
  );
  const createdRuns = await runPrograms(created.map((entry) => entry.scenario));
  const otherStacks = { [SHARED_STACK]: asPreviousUpdate(createdRuns[0]!) };
  // A developer stack finds the platform's cluster in AWS and its developer directory in the cluster, never
  // through the platform's state (infra/cluster.ts borrowCluster).
  const borrow = {
    clusterMode: "borrow",
    ephemeral: true,
    clusterStack: SHARED_STACK,
    rolePermissionsBoundary: BOUNDARY,
    // Within the platform's developerCpuMillicores, which the namespace's LimitRange caps a container at.
    cpuLimitMillicores: 400,
  };
  const platform = createdRuns[0]!;
  const adopt = { clusterMode: "adopt", clusterName: "platform-prod", rolePermissionsBoundary: BOUNDARY };
  const later: { label: string; scenario: Scenario }[] = [
    {
      label: "create, the cluster exists, updated by the CI deploy role, the queue replaced as allowed",
      scenario: await scenario(
        "shared",
        { ...CREATE[0]!.values, queueType: "fifo", allowQueueReplacement: true },
        {
          // The stack's own previous update (its createdWith output), which allowQueueReplacement needs.
          otherStacks,
          existingClusters: {
            "sqs-eks-consumer-shared": {
              endpoint: "https://SHARED.gr7.us-west-2.eks.amazonaws.com",
              certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
              oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/SHARED0123456789ABCDEF0123456789",
              accessEntries: [CI_DEPLOY_ROLE, CI_PREVIEW_ROLE],
            },
          },
          callerArn: "arn:aws:sts::123456789012:assumed-role/ci-sqs-eks-consumer-deploy/github",
        },
      ),
    },
    {
      label: "borrow mode, IRSA, a day's time to live",
      scenario: await scenario("alice", { ...borrow, ttlHours: 24 }, borrowing(platform, DEVELOPER_SESSIONS.alice)),
    },
    {
      label: "borrow mode on a shared role, Pod Identity, KEDA",
      scenario: await scenario(
        "bob",
        { ...borrow, identity: "pod-identity", autoscaling: "keda", maxReplicas: 2 },
        { ...borrowing(platform, DEVELOPER_SESSIONS.bob), clusterAddons: { "sqs-eks-consumer-shared": AGENT } },
      ),
    },
    {
      label: "adopt mode, IRSA, KEDA",
      scenario: await scenario("platform", { ...adopt, autoscaling: "keda" }, { existingClusters: EXISTING_CLUSTERS }),
    },
    {
      label: "adopt mode, Pod Identity",
      scenario: await scenario(
        "platform",
        { ...adopt, identity: "pod-identity" },
        { existingClusters: EXISTING_CLUSTERS, clusterAddons: { "platform-prod": AGENT } },
      ),
    },
  ];
  const laterRuns = await runPrograms(later.map((entry) => entry.scenario));
  return [
    ...created.map((entry, i) => ({ ...entry, run: createdRuns[i]! })),
    ...later.map((entry, i) => ({ ...entry, run: laterRuns[i]! })),
  ];
}

/** The project keys no recorded configuration sets to anything but their default. */
export function matrixCoverage(runs: readonly MatrixRun[]): string[] {
  return Object.entries(CONFIG_KEYS)
    .filter(([key, spec]) =>
      runs.every((entry) => {
        const value = entry.scenario.config[`${entry.scenario.project}:${key}`];
        const fallback = typeof spec.default === "object" ? JSON.stringify(spec.default) : String(spec.default);
        return value === undefined || value === fallback;
      }),
    )
    .map(([key]) => key);
}
