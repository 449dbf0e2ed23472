/**
 * sqs-eks-consumer: one `pulumi up` stands up an Amazon SQS consumer on EKS, authenticated with IAM Roles
 * for Service Accounts or, per stack, EKS Pod Identity. Read the stack's config, compose the components, export what an operator needs.
 * Each concept lives in its own file under infra/ (the stack config in infra/config/, one module per concern);
 * the consumer is known only through its contract, consumer/src/contract. docs/DEPLOY.md walks through a
 * deployment.
 */
import * as pulumi from "@pulumi/pulumi";
import { queueVisibilityTimeoutSeconds, renderTracingEnv } from "./consumer/src/contract";
import { ConsumerAlarms, oldestMessageAgeThresholdSeconds } from "./infra/alarms";
import { readBuildInfo } from "./infra/build-info";
import { ConsumerAutoscaling } from "./infra/autoscaling";
import { Cluster } from "./infra/cluster";
import { readStackConfig } from "./infra/config";
import { ConsumerIdentity } from "./infra/identity";
import { ConsumerImage, imageTag } from "./infra/image";
import { KedaInstallation, kedaLocation } from "./infra/keda";
import { labelSelector, recommendedLabels, selectorLabels } from "./infra/labels";
import { NAME_LIMITS, scopedName, sqsQueueName } from "./infra/names";
import { ConsumerNamespace } from "./infra/namespace";
import { ClusterNetwork } from "./infra/network";
import { ConsumerMonitoring } from "./infra/prometheus";
import { eksClusterArn } from "./infra/pod-identity";
import { PodIdentityAgent, requirePodIdentityAgent } from "./infra/pod-identity-agent";
import { ConsumerQueue } from "./infra/queue";
import { ConsumerWorkload, WORKLOAD_NAMES } from "./infra/workload";

/** The service account the consumer runs as; the IAM role trusts exactly this name in this stack's namespace. */
const SERVICE_ACCOUNT_NAME = "sqs-consumer";

// 1. Configuration: validated in full before any resource exists.
const config = readStackConfig();
const { scope } = config;
const buildInfo = readBuildInfo(__dirname);
const tags = { Project: scope.project, Stack: scope.stack, ManagedBy: "pulumi" };
const namespaceName = scopedName(scope, "", NAME_LIMITS.kubernetesNamespace);
const labels = recommendedLabels(namespaceName, imageTag(buildInfo));
const podSelector = selectorLabels(namespaceName);

// 2. Components. A created cluster gets a network of its own (or the one the stack names).
const network =
  config.network &&
  new ClusterNetwork("network", {
    config: config.network,
    namePrefix: scopedName(scope, "", NAME_LIMITS.eksCluster),
    tags,
  });
const cluster = new Cluster("cluster", {
  config: config.cluster,
  network,
  scope,
  region: config.region,
  imagePlatform: config.imagePlatform,
  tags,
  // KEDA's operator assumes the scaler role by web identity (infra/keda.ts) whatever the consumer's mode.
  requireOidcProvider: config.identity.mode === "irsa" || config.autoscaling.enabled,
});

const fifo = config.queue.type === "fifo";
const queueName = sqsQueueName(scope, "queue", fifo);
const deadLetterQueueName = sqsQueueName(scope, "dlq", fifo);
const queue = new ConsumerQueue("queue", {
  queueName,
  deadLetterQueueName,
  visibilityTimeoutSeconds: queueVisibilityTimeoutSeconds(config.tunables),
  messageRetentionSeconds: config.queue.messageRetentionSeconds,
  deadLetterRetentionSeconds: config.queue.dlqMessageRetentionSeconds,
  maxReceiveCount: config.queue.maxReceiveCount,
  ...(fifo
    ? {
        fifo: {
          contentBasedDeduplication: config.queue.contentBasedDeduplication,
          highThroughput: config.queue.highThroughput,
        },
      }
    : {}),
  tags,
});

const consumerImage = new ConsumerImage("image", {
  repositoryName: scopedName(scope, "consumer", NAME_LIMITS.ecrRepository),
  repoRoot: __dirname,
  platform: config.imagePlatform,
  buildInfo,
  tags,
});

// A borrowing stack deploys into the namespace its platform stack made for it (it has no rights to make one).
const consumerNamespace = cluster.borrowedNamespace
  ? { name: cluster.borrowedNamespace }
  : new ConsumerNamespace("namespace", { namespaceName, labels, provider: cluster.provider });

// Pod Identity needs the agent on the nodes: installed with a cluster this stack creates (after its nodes),
// required of a borrowed or adopted one.
const podIdentityAgentVersion =
  config.identity.mode !== "pod-identity"
    ? undefined
    : config.cluster.mode === "create"
      ? new PodIdentityAgent("pod-identity-agent", { clusterName: cluster.clusterName, tags, after: [cluster] }).version
      : requirePodIdentityAgent(cluster.clusterName, {});

const identity = new ConsumerIdentity("identity", {
  roleName: scopedName(
    scope,
    config.identity.mode === "irsa" ? "consumer" : "consumer-pod-identity",
    NAME_LIMITS.iamRole,
  ),
  trust:
    podIdentityAgentVersion === undefined
      ? { mode: "irsa", oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl }
      : {
          mode: "pod-identity",
          clusterName: cluster.clusterName,
          clusterArn: eksClusterArn(cluster.clusterName, config.region, {}),
          agentVersion: podIdentityAgentVersion,
        },
  namespace: consumerNamespace.name,
  serviceAccountName: SERVICE_ACCOUNT_NAME,
  queueArn: queue.arn,
  labels,
  tags,
  provider: cluster.provider,
});

const workload = new ConsumerWorkload("workload", {
  namespace: consumerNamespace.name,
  serviceAccountName: identity.serviceAccountName,
  podAnnotations: identity.podAnnotations,
  image: consumerImage.imageReference,
  queueUrl: queue.url,
  region: config.region,
  tunables: config.tunables,
  workload: config.workload,
  autoscaled: config.autoscaling.enabled,
  labels,
  selectorLabels: podSelector,
  provider: cluster.provider,
  ...(config.telemetry.otlpEndpoint !== undefined
    ? { featureEnv: renderTracingEnv(config.telemetry.otlpEndpoint, config.telemetry.otlpProtocol, namespaceName) }
    : {}),
});

// KEDA is a cluster's: the stack that creates the cluster installs it for every stack that borrows it.
const kedaInstallation =
  config.cluster.mode === "create"
    ? new KedaInstallation("keda", {
        operatorRoleName: scopedName(scope, "keda-operator", NAME_LIMITS.iamRole),
        oidcProviderArn: cluster.oidcProviderArn,
        oidcProviderUrl: cluster.oidcProviderUrl,
        labels,
        tags,
        provider: cluster.provider,
      })
    : undefined;

const autoscaling = config.autoscaling.enabled
  ? new ConsumerAutoscaling("autoscaling", {
      autoscaling: config.autoscaling,
      scalerRoleName: scopedName(scope, "scaler", NAME_LIMITS.iamRole),
      oidcProviderArn: cluster.oidcProviderArn,
      oidcProviderUrl: cluster.oidcProviderUrl,
      keda: kedaLocation("keda", config.cluster, kedaInstallation),
      namespace: consumerNamespace.name,
      deploymentName: workload.deploymentName,
      queueArn: queue.arn,
      queueUrl: queue.url,
      region: config.region,
      labels,
      tags,
      provider: cluster.provider,
      kedaReady: kedaInstallation ? [kedaInstallation.chart] : [],
    })
  : undefined;

const alarms = new ConsumerAlarms("alarms", {
  namePrefix: scopedName(scope, "", NAME_LIMITS.sqsQueue),
  queueName,
  deadLetterQueueName,
  queueArn: queue.arn,
  region: config.region,
  oldestMessageAgeSeconds:
    config.alarms.messageAgeSeconds ??
    oldestMessageAgeThresholdSeconds(
      config.tunables,
      config.queue.maxReceiveCount,
      config.queue.messageRetentionSeconds,
    ),
  emails: config.alarms.emails,
  ...(config.autoscaling.enabled
    ? {
        replicaCeiling: {
          clusterName: cluster.clusterName,
          namespace: consumerNamespace.name,
          maxReplicas: config.autoscaling.maxReplicas,
          sustainedMinutes: config.alarms.maxReplicasMinutes,
        },
      }
    : {}),
  tags,
});

if (config.telemetry.prometheusOperator) {
  new ConsumerMonitoring("monitoring", {
    namespace: consumerNamespace.name,
    labels,
    selectorLabels: podSelector,
    portName: WORKLOAD_NAMES.healthPort,
    port: config.tunables.healthPort,
    tunables: config.tunables,
    provider: cluster.provider,
  });
}

// 3. Outputs. clusterName, kubeconfig, oidcProviderArn, oidcProviderUrl, nodeArchitectures and
// developerNamespaces are also what stacks borrowing this cluster read (infra/cluster.ts SHARED_CLUSTER_OUTPUTS).
export const clusterName = cluster.clusterName;
export const kubeconfig = cluster.kubeconfig;
export const oidcProviderArn = cluster.oidcProviderArn;
export const oidcProviderUrl = cluster.oidcProviderUrl;
export const nodeArchitectures = cluster.nodeArchitectures;
export const developerNamespaces = cluster.developerNamespaces;
export const queueUrl = queue.url;
export const deadLetterQueueUrl = queue.deadLetterQueueUrl;
export const roleArn = identity.roleArn;
export const alarmTopicArn = alarms.topicArn;
export const identityMode = identity.mode;
/** The eks-pod-identity-agent add-on's version in pod-identity mode (installed here, or found on the cluster); "" in irsa mode. */
export const podIdentityAgent = podIdentityAgentVersion ?? "";
export const namespace = consumerNamespace.name;
export const image = consumerImage.imageReference;
// A FIFO queue needs a group, and a deduplication id unless it deduplicates by content.
const fifoSendOptions = !fifo
  ? ""
  : ` --message-group-id g1${config.queue.contentBasedDeduplication ? "" : " --message-deduplication-id $(date +%s%N)"}`;
export const sendTestMessageCommand = pulumi.interpolate`aws sqs send-message --region ${config.region} --queue-url ${queue.url} --message-body 'Hello world!'${fifoSendOptions}`;
/** What stacks borrowing this cluster read to trust KEDA's operator (create mode only; infra/keda.ts KEDA_OUTPUT). */
export const keda = kedaInstallation?.output;
/** The role KEDA's operator assumes to read the queue's depth (autoscaling only). */
export const scalerRoleArn = autoscaling?.scalerRoleArn;
export const tailLogsCommand = pulumi.interpolate`kubectl logs -n ${consumerNamespace.name} -l ${labelSelector(podSelector)} -f`;
