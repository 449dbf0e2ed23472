/**
 * sqs-eks-consumer: one `pulumi up` stands up an Amazon SQS consumer on EKS, authenticated with IAM Roles
 * for Service Accounts or, per stack, EKS Pod Identity. Read the stack's config, compose the components,
 * export what an operator needs. Each concept lives in its own file under infra/ and makes its own
 * decisions from the config it is given (the stack config in infra/config/); the consumer is known only
 * through its contract, consumer/src/contract. docs/DEPLOY.md walks through a deployment.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConsumerAlarms } from "./infra/alarms";
import { ConsumerAutoscaling } from "./infra/autoscaling";
import { readBuildInfo } from "./infra/build-info";
import { createdClusterName, targetCluster } from "./infra/cluster";
import { platformArchitecture, readStackConfig } from "./infra/config";
import { consumerDemand } from "./infra/config/cross-checks";
import { clusterDeveloperAccess } from "./infra/developer-access";
import { developerStackRecord } from "./infra/developer-namespace";
import { ConsumerIdentity } from "./infra/identity";
import { ConsumerImage, imageTag } from "./infra/image";
import { clusterKeda } from "./infra/keda";
import { labelSelector, recommendedLabels, selectorLabels } from "./infra/labels";
import { StateGuard, networkKeys, type CreatedWith } from "./infra/lifecycle";
import { NAME_LIMITS, scopedName } from "./infra/names";
import { stackNamespace } from "./infra/namespace";
import { ClusterNetwork } from "./infra/network";
import { clusterPodIdentityAgent } from "./infra/pod-identity-agent";
import { ConsumerMonitoring } from "./infra/prometheus";
import { ConsumerQueue, consumerQueueNames } from "./infra/queue";
import { ConsumerWorkload } from "./infra/workload";

// 1. Configuration: validated in full before any resource exists.
const config = readStackConfig();
const { scope, region } = config;
const buildInfo = readBuildInfo(__dirname);
const tags = { Project: scope.project, Stack: scope.stack, ManagedBy: "pulumi" };
const namespaceName = scopedName(scope, "", NAME_LIMITS.kubernetesNamespace);
const labels = recommendedLabels(namespaceName, imageTag(buildInfo));
const podSelector = selectorLabels(namespaceName);

// 2. What cannot change in place, compared with the last update before anything that holds state is touched
// (infra/lifecycle.ts): the network, the cluster, the queues and the image repository wait for the comparison.
const createdWithNow: CreatedWith = {
  ...consumerQueueNames(scope, config.queue.type),
  region,
  clusterMode: config.cluster.mode,
  clusterName: config.cluster.mode === "create" ? createdClusterName(scope) : "",
  network: networkKeys(config.network),
  ephemeral: config.lifecycle.ephemeral,
  kubernetesVersion: config.cluster.mode === "create" ? (config.cluster.kubernetesVersion ?? "") : "",
  availabilityZones: [],
  nodeProvisioning:
    config.cluster.mode === "create" && config.cluster.nodeProvisioningSet ? config.cluster.nodeProvisioning : "",
};
const stateGuard = new StateGuard("lifecycle", { scope, current: createdWithNow, lifecycle: config.lifecycle });
const afterStateGuard = { dependsOn: stateGuard.cleared };

// 3. Components, in the order they build on each other.
const network =
  config.network &&
  new ClusterNetwork(
    "network",
    { config: config.network, scope, tags, recordedZones: stateGuard.recordedZones },
    afterStateGuard,
  );
const cluster = targetCluster(
  "cluster",
  {
    config: config.cluster,
    network,
    scope,
    region,
    imagePlatform: config.imagePlatform,
    tags,
    lifecycle: config.lifecycle,
    permissionsBoundary: config.identity.permissionsBoundary,
  },
  afterStateGuard,
);
const agentVersion = clusterPodIdentityAgent("pod-identity-agent", {
  identity: config.identity.mode,
  cluster,
  version: config.cluster.mode === "create" ? config.cluster.addonVersions.podIdentityAgent : undefined,
  tags,
});
const kedaInstallation = clusterKeda("keda", {
  cluster,
  region,
  scope,
  labels,
  tags,
  permissionsBoundary: config.identity.permissionsBoundary,
});
// The developers' access and the directory developer stacks read; the directory comes after KEDA, so that the
// platform's destroy reaches it first and stops there while developers are listed (infra/developer-access.ts).
clusterDeveloperAccess("developers", {
  cluster,
  config: config.cluster,
  project: scope.project,
  kedaChart: kedaInstallation?.chart,
});

const queue = new ConsumerQueue(
  "queue",
  { scope, config: config.queue, tunables: config.tunables, lifecycle: config.lifecycle, tags },
  afterStateGuard,
);
const consumerImage = new ConsumerImage(
  "image",
  { scope, repoRoot: __dirname, platform: config.imagePlatform, buildInfo, lifecycle: config.lifecycle, tags },
  afterStateGuard,
);
const demand = consumerDemand(config.autoscaling, config.workload);
const consumerNamespace = stackNamespace("namespace", { cluster, namespaceName, labels, demand });
const identity = new ConsumerIdentity("identity", {
  mode: config.identity.mode,
  cluster,
  podIdentityAgentVersion: agentVersion,
  scope,
  region,
  namespace: consumerNamespace.name,
  queueArn: queue.arn,
  labels,
  tags,
  permissionsBoundary: config.identity.permissionsBoundary,
});
const workload = new ConsumerWorkload("workload", {
  namespace: consumerNamespace.name,
  serviceAccountName: identity.serviceAccountName,
  podAnnotations: identity.podAnnotations,
  image: consumerImage.imageReference,
  queueUrl: queue.url,
  queueMaximumMessageSize: config.queue.maxMessageSizeBytes,
  region,
  tunables: config.tunables,
  workload: config.workload,
  autoscaled: config.autoscaling.enabled,
  architecture: platformArchitecture(config.imagePlatform),
  telemetry: config.telemetry,
  labels,
  selectorLabels: podSelector,
  provider: cluster.provider,
});
const autoscaling =
  config.autoscaling.enabled &&
  new ConsumerAutoscaling("autoscaling", {
    autoscaling: config.autoscaling,
    cluster,
    keda: kedaInstallation,
    scope,
    namespace: consumerNamespace.name,
    deploymentName: workload.deploymentName,
    queueArn: queue.arn,
    queueUrl: queue.url,
    region,
    labels,
    tags,
    permissionsBoundary: config.identity.permissionsBoundary,
  });
const alarms = new ConsumerAlarms("alarms", {
  scope,
  queues: queue,
  region,
  settings: config.alarms,
  delivery: { tunables: config.tunables, queue: config.queue },
  replicas: { autoscaling: config.autoscaling, clusterName: cluster.clusterName, namespace: consumerNamespace.name },
  tags,
});
if (config.telemetry.prometheusOperator) {
  new ConsumerMonitoring("monitoring", {
    namespace: consumerNamespace.name,
    labels,
    selectorLabels: podSelector,
    tunables: config.tunables,
    provider: cluster.provider,
  });
}

// 4. Outputs. Stacks borrowing this cluster read none of them (infra/cluster.ts borrowCluster).
export const clusterName = cluster.clusterName;
export const kubeconfig = cluster.kubeconfig;
export const oidcProviderArn = cluster.oidcProviderArn;
export const oidcProviderUrl = cluster.oidcProviderUrl;
export const nodeArchitectures = cluster.nodeArchitectures;
/** borrow mode: the developer, platform, namespace, idle limit and most pods (infra/developer-namespace.ts DeveloperStackRecord). */
export const developerStack =
  config.cluster.mode === "borrow"
    ? developerStackRecord(cluster, config.cluster, consumerNamespace.name, demand)
    : undefined;
export const queueUrl = queue.url;
export const deadLetterQueueUrl = queue.deadLetterQueueUrl;
export const roleArn = identity.roleArn;
export const alarmTopicArn = alarms.topicArn;
export const identityMode = identity.mode;
/** The eks-pod-identity-agent add-on's version in pod-identity mode (installed here, or found on the cluster); "" in irsa mode. */
export const podIdentityAgent = agentVersion ?? "";
export const namespace = consumerNamespace.name;
export const image = consumerImage.imageReference;
export const sendTestMessageCommand = queue.sendTestMessageCommand(region);
/** Where the created cluster's KEDA runs, for operators (a stack that creates its cluster only; infra/keda.ts KEDA_OUTPUT). */
export const keda = kedaInstallation?.output;
/** The role KEDA's operator assumes to read the queue's depth (autoscaling only). */
export const scalerRoleArn = autoscaling ? autoscaling.scalerRoleArn : undefined;
export const tailLogsCommand = pulumi.interpolate`kubectl logs -n ${consumerNamespace.name} -l ${labelSelector(podSelector)} -f`;
/**
 * What cannot change in place, as this update applies it: the queues' names, the region, the cluster mode,
 * whether the stack is ephemeral, a created cluster's name, network keys, the Kubernetes version it runs, the
 * Availability Zones of its subnets and how its nodes are provisioned. The next preview compares the configuration with it (infra/lifecycle.ts).
 */
export const createdWith = {
  ...createdWithNow,
  kubernetesVersion: cluster.kubernetesVersion ?? "",
  availabilityZones: network ? network.availabilityZones : [],
  nodeProvisioning: config.cluster.mode === "create" ? config.cluster.nodeProvisioning : "",
};
