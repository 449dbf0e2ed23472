/**
 * Checks that span concerns: each reads the slices the concern modules returned (undefined when that
 * concern was already rejected, so a problem is never reported twice) and records its own problems.
 */
import { settingsWarnings, type SettingProblem, type SettingWarning, type Tunables } from "../../consumer/src/contract";
import { isInstanceType } from "./cluster";
import { CONSUMER_KEY, fullKey, type ImagePlatform } from "./keys";
import type { ConfigInput } from "./parse";
import { instanceArchitecture, platformArchitecture } from "./platform";
import type { QueueConfig } from "./queue";
import type { WorkloadConfig } from "./workload";

/** The slices the cross-checks look at. */
export interface CrossCheckInput {
  readonly input: ConfigInput;
  readonly imagePlatform: ImagePlatform | undefined;
}

/** Runs every cross-concern check. */
export function crossCheck({ input, imagePlatform }: CrossCheckInput, problems: SettingProblem[]): void {
  checkNodeArchitecture(input, imagePlatform, problems);
}

/** Created nodes must run the image's architecture, or the pods could not start. */
function checkNodeArchitecture(input: ConfigInput, imagePlatform: ImagePlatform | undefined, problems: SettingProblem[]): void {
  const { clusterMode, nodeInstanceType } = input.values;
  if (clusterMode !== "create" || imagePlatform === undefined || !isInstanceType(nodeInstanceType)) return;
  if (instanceArchitecture(nodeInstanceType) === platformArchitecture(imagePlatform)) return;
  problems.push({
    key: fullKey("nodeInstanceType"),
    reason: `${nodeInstanceType} is ${instanceArchitecture(nodeInstanceType)} but imagePlatform is ${imagePlatform}; the pods could not start`,
  });
}

/**
 * Valid settings that hurt in production (consumer/src/contract/settings-warnings.ts): the handler
 * timeout above the shutdown budget, and more in-flight bodies than the pod's heap holds. Warnings, not
 * problems: each is a trade-off a stack may choose knowingly (README, "Preview warnings").
 */
export function crossCheckWarnings(tunables: Tunables, workload: WorkloadConfig, queue: QueueConfig): SettingWarning[] {
  return settingsWarnings(
    { tunables, memoryLimitMiB: workload.memoryLimitMiB, maxReceiveCount: queue.maxReceiveCount },
    (key) => (key === "memoryLimitMiB" ? fullKey(key) : `${fullKey(CONSUMER_KEY)}.${key}`),
  );
}
