/**
 * Checks that span concerns: each reads the slices the concern modules returned (undefined when that
 * concern was already rejected, so a problem is never reported twice) and records its own problems.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { isInstanceType } from "./cluster";
import { fullKey, type ImagePlatform } from "./keys";
import type { ConfigInput } from "./parse";
import { instanceArchitecture, platformArchitecture } from "./platform";

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
