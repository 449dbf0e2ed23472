/** Container images: pinned by digest, from allowed registries; ECR repositories scan and expire images. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { containerLabel, containersOf, podSpecOf } from "../lib/pod-spec";
import { ofType, refersTo } from "../lib/stack";
import { AWS } from "../lib/types";
import { pathOf, stringOf } from "../lib/values";

const DIGEST_REFERENCE = /@sha256:[a-f0-9]{64}$/;

export const imagePinnedByDigest: ResourceValidationPolicy = {
  name: "image-pinned-by-digest",
  description:
    "Every container image is referenced by digest (`<registry>/<repository>@sha256:<digest>`), never by a tag.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    for (const container of containersOf(pod)) {
      const image = stringOf(container.fields["image"]);
      if (image !== undefined && DIGEST_REFERENCE.test(image)) continue;
      const shown = image === undefined ? "is not set" : `is "${image}", which is not pinned by digest`;
      reportViolation(
        `${containerLabel(pod, container)}: ${container.path}.image ${shown}; reference the image as <registry>/<repository>@sha256:<digest> so every rollout and rollback is exact.`,
      );
    }
  },
};

/** Private ECR registries in any account and region. */
export const DEFAULT_ALLOWED_REGISTRIES = ["*.dkr.ecr.*.amazonaws.com"];

/** The registry host of an image reference; references without one come from Docker Hub. */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash === -1) return "docker.io";
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

/** Whether `host` matches a registry pattern, where `*` stands for any run of characters other than `/`. */
export function registryMatches(pattern: string, host: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
  return new RegExp(`^${source}$`, "i").test(host);
}

export const imageFromAllowedRegistry: ResourceValidationPolicy = {
  name: "image-from-allowed-registry",
  description: "Every container image comes from a registry on the configured allow-list (by default, private ECR).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedRegistries: {
        type: "array",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        default: DEFAULT_ALLOWED_REGISTRIES,
        description:
          "Registry hosts images may come from; `*` matches any characters except `/`. Docker Hub is `docker.io`.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    const { allowedRegistries } = configWithDefaults(args, { allowedRegistries: DEFAULT_ALLOWED_REGISTRIES });
    for (const container of containersOf(pod)) {
      const image = stringOf(container.fields["image"]);
      if (image === undefined) continue; // image-pinned-by-digest reports it
      const registry = registryOf(image);
      if (allowedRegistries.some((pattern) => registryMatches(pattern, registry))) continue;
      reportViolation(
        `${containerLabel(pod, container)}: ${container.path}.image comes from registry "${registry}", which is not in allowedRegistries (${allowedRegistries.join(", ")}); push the image to an allowed registry or add the registry to this policy's allowedRegistries.`,
      );
    }
  },
};

export const ecrScanOnPush: ResourceValidationPolicy = {
  name: "ecr-scan-on-push",
  description: "Every ECR repository scans images for vulnerabilities when they are pushed.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== AWS.ecrRepository) return;
    if (pathOf(args.props, "imageScanningConfiguration", "scanOnPush") === true) return;
    reportViolation(
      `ECR repository "${args.name}" does not scan images on push; set imageScanningConfiguration: { scanOnPush: true }.`,
    );
  },
};

export const ecrLifecyclePolicy: StackValidationPolicy = {
  name: "ecr-lifecycle-policy",
  description: "Every ECR repository has a lifecycle policy that expires old images.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    const lifecyclePolicies = ofType(args.resources, AWS.ecrLifecyclePolicy);
    for (const repository of ofType(args.resources, AWS.ecrRepository)) {
      if (lifecyclePolicies.some((p) => refersTo(repository, p.props["repository"]))) continue;
      reportViolation(
        `ECR repository "${repository.name}" has no lifecycle policy, so images pile up; add an aws.ecr.LifecyclePolicy that expires untagged and old images.`,
        repository.urn,
      );
    }
  },
};
