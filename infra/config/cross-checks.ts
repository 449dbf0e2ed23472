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
  checkNodeArchitecture(input, cluster, imagePlatform, problems);
  // The consumer alone first: when it does not fit, the sum with the developers is not reported again.
  if (checkConsumerFitsNodes(input, cluster, autoscaling, workload, problems)) {
    checkClusterCapacity(input, cluster, autoscaling, workload, problems);
  }
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
 * limited to it (what a ResourceQuota's `limits.memory` counts); and the CPU limit of its one container (what a
 * LimitRange's `max.cpu` caps), millicores.
 */
export function consumerDemand(
  autoscaling: AutoscalingConfig,
  workload: WorkloadConfig,
): Demand & { readonly memoryLimitMiB: number; readonly containerCpuLimitMillicores: number } {
  const pods = (autoscaling.enabled ? autoscaling.maxReplicas : workload.replicas) + 1;
  return {
    pods,
    cpuMillicores: pods * workload.cpuRequestMillicores,
    memoryMiB: pods * workload.memoryRequestMiB,
    memoryLimitMiB: pods * workload.memoryLimitMiB,
    containerCpuLimitMillicores: workload.cpuLimitMillicores,
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

/** A created cluster's managed node group, or undefined when the cluster is not created or runs EKS Auto Mode. */
function nodeGroupOf(cluster: ClusterConfig | undefined): Extract<ClusterConfig, { mode: "create" }> | undefined {
  return cluster?.mode === "create" && cluster.nodeProvisioning === "node-group" ? cluster : undefined;
}

/**
 * A managed node group never changes its number of nodes by itself (no node autoscaler runs; EKS user guide,
 * "Managed node groups": the group's desired size is what it runs), so the nodes at nodeDesiredCount must
 * hold the consumer at its most pods beside the system pods: beyond that, pods stay Pending while the queue
 * grows. The key named is the one that asks for the pods (maxReplicas when autoscaled, else replicas).
 * Under EKS Auto Mode nodes are launched for pending pods, and nothing is checked here.
 * Returns whether the consumer fits (true when it cannot be judged).
 */
function checkConsumerFitsNodes(
  input: ConfigInput,
  cluster: ClusterConfig | undefined,
  autoscaling: AutoscalingConfig | undefined,
  workload: WorkloadConfig,
  problems: SettingProblem[],
): boolean {
  const nodeGroup = nodeGroupOf(cluster);
  if (nodeGroup === undefined || autoscaling === undefined) return true;
  const offered = clusterOffers(input, nodeGroup);
  if (offered === undefined) return true;
  const consumer = consumerDemand(autoscaling, workload);
  const needed: Demand = {
    pods: SYSTEM_PODS.cluster.pods + consumer.pods,
    cpuMillicores: SYSTEM_PODS.cluster.cpuMillicores + consumer.cpuMillicores,
    memoryMiB: SYSTEM_PODS.cluster.memoryMiB + consumer.memoryMiB,
  };
  const short = shortOf(needed, offered);
  if (short.length === 0) return true;
  const key = autoscaling.enabled ? "maxReplicas" : "replicas";
  const asked = autoscaling.enabled ? autoscaling.maxReplicas : workload.replicas;
  const { nodeInstanceType, nodeDesiredCount } = input.values;
  problems.push({
    key: input.key(key),
    reason:
      `${asked} pods (and 1 a rollout surges) need ${describe(needed)} with CoreDNS and KEDA; ` +
      `${nodeDesiredCount} x ${nodeInstanceType} hold ${describe(offered)} for pods, short of ${short.join(" and ")}, ` +
      "and a managed node group never adds nodes by itself: the extra pods would stay Pending while the queue grows. " +
      `Lower ${key}, raise nodeDesiredCount (and nodeMaxCount) or choose a larger nodeInstanceType, or set nodeProvisioning to auto-mode`,
  });
  return false;
}

/**
 * A created cluster's managed nodes, at nodeDesiredCount, must hold at once: the system pods, this stack's
 * consumer at its most pods (maxReplicas when autoscaled, else replicas, plus the one pod a rollout surges),
 * and every listed developer's full quota. A sum over the nodes, before bin packing: a cluster that fails it
 * leaves pods Pending for certain. Under EKS Auto Mode, nodes follow the pods and nothing is checked.
 */
function checkClusterCapacity(
  input: ConfigInput,
  cluster: ClusterConfig | undefined,
  autoscaling: AutoscalingConfig | undefined,
  workload: WorkloadConfig,
  problems: SettingProblem[],
): void {
  const nodeGroup = nodeGroupOf(cluster);
  if (nodeGroup === undefined || autoscaling === undefined || nodeGroup.developers.length === 0) return;
  const offered = clusterOffers(input, nodeGroup);
  if (offered === undefined) return;
  const consumer = consumerDemand(autoscaling, workload);
  const { developers, developerQuota: quota } = nodeGroup;
  const needed: Demand = {
    pods: SYSTEM_PODS.cluster.pods + consumer.pods + developers.length * quota.pods,
    cpuMillicores: SYSTEM_PODS.cluster.cpuMillicores + consumer.cpuMillicores + developers.length * quota.cpuMillicores,
    memoryMiB: SYSTEM_PODS.cluster.memoryMiB + consumer.memoryMiB + developers.length * quota.memoryMiB,
  };
  const short = shortOf(needed, offered);
  if (short.length === 0) return;
  const { nodeInstanceType, nodeDesiredCount } = input.values;
  problems.push({
    key: input.key("developers"),
    reason:
      `${nodeDesiredCount} x ${nodeInstanceType} hold ${describe(offered)} for pods; the cluster needs ${describe(needed)}: ` +
      `CoreDNS and KEDA (${describe(SYSTEM_PODS.cluster)}), this stack's consumer (up to ${consumer.pods} pods), and ` +
      `${developers.length} developer${developers.length === 1 ? "" : "s"} x (${quota.pods} pods, ${quota.cpuMillicores}m, ${quota.memoryMiB} MiB). ` +
      `Short of ${short.join(" and ")}: ` +
      "raise nodeDesiredCount (and nodeMaxCount) or choose a larger nodeInstanceType, or lower developerPods, developerCpuMillicores, developerMemoryMiB, or set nodeProvisioning to auto-mode",
  });
}

/** The resources `needed` asks more of than `offered` has, by name (pods, CPU, memory). */
function shortOf(needed: Demand, offered: Demand): string[] {
  const names = { pods: "pods", cpuMillicores: "CPU", memoryMiB: "memory" } as const;
  return (["pods", "cpuMillicores", "memoryMiB"] as const)
    .filter((what) => needed[what] > offered[what])
    .map((what) => names[what]);
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
 * A managed node group's instance type must run the image's architecture, or the pods could not start. Under
 * EKS Auto Mode the NodePool the pods land in is chosen for the image's architecture (infra/cluster.ts).
 */
function checkNodeArchitecture(
  input: ConfigInput,
  cluster: ClusterConfig | undefined,
  imagePlatform: ImagePlatform | undefined,
  problems: SettingProblem[],
): void {
  const { nodeInstanceType } = input.values;
  if (nodeGroupOf(cluster) === undefined || imagePlatform === undefined || !isInstanceType(nodeInstanceType)) return;
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
    {
      tunables,
      memoryLimitMiB: workload.memoryLimitMiB,
      maxReceiveCount: queue.maxReceiveCount,
      maximumMessageSize: queue.maxMessageSizeBytes,
    },
    (key) =>
      key === "memoryLimitMiB" || key === "maxMessageSizeBytes" ? input.key(key) : `${input.key(CONSUMER_KEY)}.${key}`,
  );
  if (nodeGroupOf(cluster) !== undefined && instanceCapacity(input.values.nodeInstanceType) === undefined) {
    warnings.push({
      key: input.key("nodeInstanceType"),
      message: `${input.values.nodeInstanceType} is not in infra/config/instance-types.ts, so whether its nodes hold the cluster's pods is not checked`,
    });
  }
  return warnings;
}
