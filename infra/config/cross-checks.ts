/**
 * Checks that span concerns: each reads the slices the concern modules returned (undefined when that
 * concern was already rejected, so a problem is never reported twice) and records its own problems.
 */
import { settingsWarnings, type SettingProblem, type SettingWarning, type Tunables } from "../../consumer/src/contract";
import type { AutoscalingConfig } from "./autoscaling";
import { instanceArchitecture, isInstanceType, platformArchitecture, type ClusterConfig } from "./cluster";
import { instanceCapacity, nodeAllocatable } from "./instance-types";
import { CONSUMER_KEY, type ImagePlatform } from "./keys";
import type { ConfigInput } from "./parse";
import type { QueueConfig } from "./queue";
import type { WorkloadConfig } from "./workload";

/** The slices the cross-checks look at. */
export interface CrossCheckInput {
  readonly input: ConfigInput;
  readonly imagePlatform: ImagePlatform | undefined;
  readonly autoscaling: AutoscalingConfig | undefined;
  readonly workload: WorkloadConfig;
  readonly cluster: ClusterConfig | undefined;
}

/** Runs every cross-concern check. */
export function crossCheck(
  { input, imagePlatform, autoscaling, workload, cluster }: CrossCheckInput,
  problems: SettingProblem[],
): void {
  checkNodeArchitecture(input, imagePlatform, problems);
  checkPodsFitNodes(input, autoscaling, workload, problems);
  checkClusterCapacity(input, cluster, autoscaling, workload, problems);
}

/** Pods, CPU (millicores) and memory (MiB). */
export interface Demand {
  readonly pods: number;
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

/**
 * The most the consumer's pods take at once: maxReplicas when autoscaled, else replicas, plus the one pod a
 * rollout surges (infra/workload.ts `maxSurge: 1`); CPU and memory as they request it, and memory as they are
 * limited to it (what a ResourceQuota's `limits.memory` counts).
 */
export function consumerDemand(
  autoscaling: AutoscalingConfig,
  workload: WorkloadConfig,
): Demand & { readonly memoryLimitMiB: number } {
  const pods = (autoscaling.enabled ? autoscaling.maxReplicas : workload.replicas) + 1;
  return {
    pods,
    cpuMillicores: pods * workload.cpuRequestMillicores,
    memoryMiB: pods * workload.memoryRequestMiB,
    memoryLimitMiB: pods * workload.memoryLimitMiB,
  };
}

/**
 * What a created cluster runs besides the stacks' consumers, as the EKS add-ons and the KEDA chart request it.
 * Per node: aws-node (25m CPU; aws/amazon-vpc-cni-k8s charts/aws-vpc-cni values.yaml) and kube-proxy (100m;
 * the EKS kube-proxy add-on), both host-network pods that max-pods already counts (instance-types.ts), and
 * the eks-pod-identity-agent, a third host-network pod, in pod-identity mode. Once per cluster: CoreDNS (2
 * pods of 100m and 70 MiB; the EKS CoreDNS add-on) and KEDA chart 2.20.2 (3 Deployments of 100m and 100 MiB;
 * kedacore/charts keda/values.yaml), which infra/keda.ts installs on every created cluster.
 */
export const SYSTEM_PODS = {
  perNodeCpuMillicores: 125,
  perNodePodIdentityAgentPods: 1,
  cluster: { pods: 5, cpuMillicores: 5 * 100, memoryMiB: 2 * 70 + 3 * 100 },
} as const;

/**
 * A created cluster's nodes, at nodeDesiredCount (no node autoscaler runs: the managed node group stays at its
 * desired size), must hold at once: the system pods, this stack's consumer at its most pods (maxReplicas when
 * autoscaled, else replicas, plus the one pod a rollout surges), and every listed developer's full quota. A
 * sum over the nodes, before bin packing: a cluster that fails it leaves pods Pending for certain.
 */
function checkClusterCapacity(
  input: ConfigInput,
  cluster: ClusterConfig | undefined,
  autoscaling: AutoscalingConfig | undefined,
  workload: WorkloadConfig,
  problems: SettingProblem[],
): void {
  if (cluster?.mode !== "create" || autoscaling === undefined) return;
  const offered = clusterOffers(input, cluster);
  if (offered === undefined) return;
  const consumer = consumerDemand(autoscaling, workload);
  const { developers, developerQuota: quota } = cluster;
  const needed: Demand = {
    pods: SYSTEM_PODS.cluster.pods + consumer.pods + developers.length * quota.pods,
    cpuMillicores: SYSTEM_PODS.cluster.cpuMillicores + consumer.cpuMillicores + developers.length * quota.cpuMillicores,
    memoryMiB: SYSTEM_PODS.cluster.memoryMiB + consumer.memoryMiB + developers.length * quota.memoryMiB,
  };
  const short = (["pods", "cpuMillicores", "memoryMiB"] as const).filter((what) => needed[what] > offered[what]);
  if (short.length === 0) return;
  const { nodeInstanceType, nodeDesiredCount } = input.values;
  problems.push({
    key: input.key(developers.length > 0 ? "developers" : "nodeDesiredCount"),
    reason:
      `${nodeDesiredCount} x ${nodeInstanceType} hold ${describe(offered)} for pods; the cluster needs ${describe(needed)}: ` +
      `CoreDNS and KEDA (${describe(SYSTEM_PODS.cluster)}), this stack's consumer (up to ${consumer.pods} pods), and ` +
      `${developers.length} developer${developers.length === 1 ? "" : "s"} x (${quota.pods} pods, ${quota.cpuMillicores}m, ${quota.memoryMiB} MiB). ` +
      `Short of ${short.map((what) => ({ pods: "pods", cpuMillicores: "CPU", memoryMiB: "memory" })[what]).join(" and ")}: ` +
      "raise nodeDesiredCount (and nodeMaxCount) or choose a larger nodeInstanceType, or lower developerPods, developerCpuMillicores, developerMemoryMiB",
  });
}

/** What the nodes offer the pods, or undefined when the instance type's capacity is not known. */
function clusterOffers(input: ConfigInput, cluster: Extract<ClusterConfig, { mode: "create" }>): Demand | undefined {
  const capacity = instanceCapacity(cluster.nodeInstanceType);
  if (capacity === undefined) return undefined;
  const nodes = cluster.nodeCount.desired;
  const allocatable = nodeAllocatable(capacity);
  const agentPods = input.values.identity === "pod-identity" ? SYSTEM_PODS.perNodePodIdentityAgentPods : 0;
  // max-pods counts aws-node and kube-proxy (its "+2"); the pods the stacks can have are the rest.
  return {
    pods: nodes * (capacity.maxPods - 2 - agentPods),
    cpuMillicores: nodes * (allocatable.cpuMillicores - SYSTEM_PODS.perNodeCpuMillicores),
    memoryMiB: nodes * allocatable.memoryMiB,
  };
}

function describe(demand: Demand): string {
  return `${demand.pods} pods, ${demand.cpuMillicores}m CPU, ${demand.memoryMiB} MiB`;
}

/**
 * vCPUs of an EC2 instance size, where the size name alone tells: large 2, xlarge 4, Nxlarge 4N, and
 * the burstable t-families' medium 2. Undefined for sizes whose count depends on the family (metal,
 * nano..small, other mediums).
 */
export function instanceVcpus(instanceType: string): number | undefined {
  const [family = "", size = ""] = instanceType.split(".");
  if (size === "large") return 2;
  if (size === "xlarge") return 4;
  const multiple = /^(\d+)xlarge$/.exec(size);
  if (multiple) return 4 * Number(multiple[1]);
  if (size === "medium" && /^t\d/.test(family)) return 2;
  return undefined;
}

/**
 * Created nodes whose size is known must hold maxReplicas pods' CPU requests: an HPA asking for more
 * leaves pods Pending, and the queue grows while it looks scaled out.
 */
function checkPodsFitNodes(
  input: ConfigInput,
  autoscaling: AutoscalingConfig | undefined,
  workload: WorkloadConfig,
  problems: SettingProblem[],
): void {
  const { clusterMode, nodeInstanceType, nodeMaxCount } = input.values;
  if (clusterMode !== "create" || autoscaling === undefined || !autoscaling.enabled) return;
  const vcpus = instanceVcpus(nodeInstanceType);
  if (vcpus === undefined) return;
  const requested = autoscaling.maxReplicas * workload.cpuRequestMillicores;
  const offered = nodeMaxCount * vcpus * 1000;
  if (requested <= offered) return;
  problems.push({
    key: input.key("maxReplicas"),
    reason: `${autoscaling.maxReplicas} pods request ${requested}m CPU (cpuRequestMillicores ${workload.cpuRequestMillicores}), more than nodeMaxCount x ${nodeInstanceType} offers (${nodeMaxCount} x ${vcpus} vCPU = ${offered}m, before system pods); lower maxReplicas or raise nodeMaxCount`,
  });
}

/** Created nodes must run the image's architecture, or the pods could not start. */
function checkNodeArchitecture(
  input: ConfigInput,
  imagePlatform: ImagePlatform | undefined,
  problems: SettingProblem[],
): void {
  const { clusterMode, nodeInstanceType } = input.values;
  if (clusterMode !== "create" || imagePlatform === undefined || !isInstanceType(nodeInstanceType)) return;
  if (instanceArchitecture(nodeInstanceType) === platformArchitecture(imagePlatform)) return;
  problems.push({
    key: input.key("nodeInstanceType"),
    reason: `${nodeInstanceType} is ${instanceArchitecture(nodeInstanceType)} but imagePlatform is ${imagePlatform}; the pods could not start`,
  });
}

/**
 * Valid settings that hurt in production (consumer/src/contract/settings-warnings.ts): the handler
 * timeout above the shutdown budget, and more in-flight bodies than the pod's heap holds. Warnings, not
 * problems: each is a trade-off a stack may choose knowingly (docs/CONSUMER.md, "Preview warnings").
 */
export function crossCheckWarnings(
  input: ConfigInput,
  tunables: Tunables,
  workload: WorkloadConfig,
  queue: QueueConfig,
  cluster: ClusterConfig,
): SettingWarning[] {
  const warnings = settingsWarnings(
    { tunables, memoryLimitMiB: workload.memoryLimitMiB, maxReceiveCount: queue.maxReceiveCount },
    (key) => (key === "memoryLimitMiB" ? input.key(key) : `${input.key(CONSUMER_KEY)}.${key}`),
  );
  if (cluster.mode === "create" && instanceCapacity(cluster.nodeInstanceType) === undefined) {
    warnings.push({
      key: input.key("nodeInstanceType"),
      message: `${cluster.nodeInstanceType} is not in infra/config/instance-types.ts, so whether its nodes hold the cluster's pods is not checked`,
    });
  }
  return warnings;
}
