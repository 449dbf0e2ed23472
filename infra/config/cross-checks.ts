/**
 * Checks that span concerns: each reads the slices the concern modules returned (undefined when that
 * concern was already rejected, so a problem is never reported twice) and records its own problems.
 */
import { settingsWarnings, type SettingProblem, type SettingWarning, type Tunables } from "../../consumer/src/contract";
import type { AutoscalingConfig } from "./autoscaling";
import { instanceArchitecture, isInstanceType, platformArchitecture } from "./cluster";
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
}

/** Runs every cross-concern check. */
export function crossCheck(
  { input, imagePlatform, autoscaling, workload }: CrossCheckInput,
  problems: SettingProblem[],
): void {
  checkNodeArchitecture(input, imagePlatform, problems);
  checkPodsFitNodes(input, autoscaling, workload, problems);
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
): SettingWarning[] {
  return settingsWarnings(
    { tunables, memoryLimitMiB: workload.memoryLimitMiB, maxReceiveCount: queue.maxReceiveCount },
    (key) => (key === "memoryLimitMiB" ? input.key(key) : `${input.key(CONSUMER_KEY)}.${key}`),
  );
}
