/** The image platform concern: which CPU architecture the consumer image is built for (PLATFORM_KEYS). */
import type { SettingProblem } from "../../consumer/src/contract";
import { IMAGE_PLATFORMS, type ImagePlatform } from "./keys";
import { checkEnum, type ConfigInput } from "./parse";

/** `imagePlatform`, or undefined (with a problem) when it is not one of IMAGE_PLATFORMS. */
export function readImagePlatform(input: ConfigInput, problems: SettingProblem[]): ImagePlatform | undefined {
  return checkEnum("imagePlatform", input.values.imagePlatform, IMAGE_PLATFORMS, problems);
}

/** The CPU architecture of an EC2 instance type: Graviton families carry a "g" after the generation (t4g, m7gd, c7gn). */
export function instanceArchitecture(instanceType: string): "amd64" | "arm64" {
  const family = instanceType.split(".")[0] ?? "";
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "amd64";
}

export function platformArchitecture(platform: ImagePlatform): "amd64" | "arm64" {
  return platform === "linux/arm64" ? "arm64" : "amd64";
}
