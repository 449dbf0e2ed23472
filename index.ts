/**
 * sqs-eks-consumer: one `pulumi up` stands up an Amazon SQS consumer on EKS, authenticated with IAM Roles
 * for Service Accounts or, per stack, EKS Pod Identity. Read the stack's config, compose the components, export what an operator needs.
 * Each concept lives in its own file under infra/ (the stack config in infra/config/, one module per concern);
 * the consumer is known only through its contract, consumer/src/contract. docs/DEPLOY.md walks through a
 * deployment.
 */
import * as pulumi from "@pulumi/pulumi";
import { queueVisibilityTimeoutSeconds } from "./consumer/src/contract";
import { readBuildInfo } from "./infra/build-info";
import { ConsumerAutoscaling } from "./infra/autoscaling";
import { Cluster } from "./infra/cluster";
import { readStackConfig } from "./infra/config";
import { ConsumerIdentity } from "./infra/identity";
import { ConsumerImage, imageTag } from "./infra/image";
import { KedaInstallation, kedaLocation } from "./infra/keda";
import { labelSelector, recommendedLabels, selectorLabels } from "./infra/labels";
import { NAME_LIMITS, scopedName } from "./infra/names";
import { ConsumerNamespace } from "./infra/namespace";
import { eksClusterArn } from "./infra/pod-identity";
import { PodIdentityAgent, requirePodIdentityAgent } from "./infra/pod-identity-agent";
import { ConsumerQueue } from "./infra/queue";
import { ConsumerWorkload } from "./infra/workload";

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

// 2. Components.
const cluster = new Cluster("cluster", {
  config: config.cluster,
  scope,
  region: config.region,
  imagePlatform: config.imagePlatform,
  tags,
  // KEDA's operator assumes the scaler role by web identity (infra/keda.ts) whatever the consumer's mode.
  requireOidcProvider: config.identity.mode === "irsa" || config.autoscaling.enabled,
});

const queue = new ConsumerQueue("queue", {
  queueName: scopedName(scope, "queue", NAME_LIMITS.sqsQueue),
  deadLetterQueueName: scopedName(scope, "dlq", NAME_LIMITS.sqsQueue),
  visibilityTimeoutSeconds: queueVisibilityTimeoutSeconds(config.tunables),
  messageRetentionSeconds: config.queue.messageRetentionSeconds,
  deadLetterRetentionSeconds: config.queue.dlqMessageRetentionSeconds,
  maxReceiveCount: config.queue.maxReceiveCount,
  tags,
});

const consumerImage = new ConsumerImage("image", {
  repositoryName: scopedName(scope, "consumer", NAME_LIMITS.ecrRepository),
  repoRoot: __dirname,
  platform: config.imagePlatform,
  buildInfo,
  tags,
});

const consumerNamespace = new ConsumerNamespace("namespace", { namespaceName, labels, provider: cluster.provider });

// Pod Identity needs the agent on the nodes: installed with a cluster this stack creates (after its nodes),
// required of a borrowed or adopted one.
const podIdentityAgentVersion =
  config.identity.mode !== "pod-identity"
    ? undefined
    : config.cluster.mode === "create"
      ? new PodIdentityAgent("pod-identity-agent", { clusterName: cluster.clusterName, tags, after: [cluster] }).version
      : requirePodIdentityAgent(cluster.clusterName, {});

const identity = new ConsumerIdentity("identity", {
  roleName: scopedName(scope, config.identity.mode === "irsa" ? "consumer" : "consumer-pod-identity", NAME_LIMITS.iamRole),
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

// 3. Outputs. clusterName, kubeconfig, oidcProviderArn and oidcProviderUrl are also what stacks borrowing
// this cluster read (infra/cluster.ts SHARED_CLUSTER_OUTPUTS).
export const clusterName = cluster.clusterName;
export const kubeconfig = cluster.kubeconfig;
export const oidcProviderArn = cluster.oidcProviderArn;
export const oidcProviderUrl = cluster.oidcProviderUrl;
export const queueUrl = queue.url;
export const deadLetterQueueUrl = queue.deadLetterQueueUrl;
export const roleArn = identity.roleArn;
export const identityMode = identity.mode;
/** The eks-pod-identity-agent add-on's version in pod-identity mode (installed here, or found on the cluster); "" in irsa mode. */
export const podIdentityAgent = podIdentityAgentVersion ?? "";
export const namespace = consumerNamespace.name;
export const image = consumerImage.imageReference;
export const sendTestMessageCommand = pulumi.interpolate`aws sqs send-message --region ${config.region} --queue-url ${queue.url} --message-body 'Hello world!'`;
/** What stacks borrowing this cluster read to trust KEDA's operator (create mode only; infra/keda.ts KEDA_OUTPUT). */
export const keda = kedaInstallation?.output;
/** The role KEDA's operator assumes to read the queue's depth (autoscaling only). */
export const scalerRoleArn = autoscaling?.scalerRoleArn;
export const tailLogsCommand = pulumi.interpolate`kubectl logs -n ${consumerNamespace.name} -l ${labelSelector(podSelector)} -f`;
