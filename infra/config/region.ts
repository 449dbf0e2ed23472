/** The AWS region concern: `aws:region` (the provider's key), defaulting to DEFAULT_REGION. */
import type { SettingProblem } from "../../consumer/src/contract";
import { DEFAULT_REGION } from "./keys";
import type { ConfigInput } from "./parse";

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region name; a value that is not shaped like one (e.g. eu-west-1) is a problem on `aws:region`. */
export function readRegion(input: ConfigInput, problems: SettingProblem[]): string {
  const region = input.raw.values["aws:region"]?.trim() || DEFAULT_REGION;
  if (!REGION_PATTERN.test(region)) {
    problems.push({ key: "aws:region", reason: `"${region}" is not an AWS region name (e.g. eu-west-1)` });
  }
  return region;
}
