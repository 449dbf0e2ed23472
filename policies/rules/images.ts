/** Container images: pinned by digest, from allowed registries; ECR repositories scan and expire images. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { containerLabel, containersOf, podSpecOf } from "../lib/pod-spec";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { Decisions } from "../lib/undecided";
import { stackAccounts } from "./resource-policies";
import { AWS } from "../lib/types";
import { pathOf, stringOf } from "../lib/values";

const DIGEST_REFERENCE = /@sha256:[a-f0-9]{64}$/;

/**
 * Upstream images a packaged chart's pods may run by tag: KEDA's operator, metrics API server and admission
 * webhooks as kedacore/charts `keda` 2.20.2 renders them (keda/values.yaml: registry ghcr.io, tag "" =
 * the chart's appVersion 2.20.2). The chart itself is pinned (version, archive SHA-256, an immutable mirror),
 * but these tags live on ghcr.io and could be pushed again: docs/POLICY.md says why this is accepted.
 */
export const DEFAULT_UPSTREAM_CHART_IMAGES = [
  "ghcr.io/kedacore/keda:2.20.2",
  "ghcr.io/kedacore/keda-metrics-apiserver:2.20.2",
  "ghcr.io/kedacore/keda-admission-webhooks:2.20.2",
];

const CHART_TYPE = /^kubernetes:helm\.sh\/v\d+:Chart$/;

/** The type token in a URN (`urn:pulumi:<stack>::<project>::<parent types$>type::name`). */
function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** Whether a resource was rendered by a Helm chart (its parent is a `helm.sh` Chart). */
export function renderedByChart(parentUrn: string | undefined): boolean {
  return parentUrn !== undefined && CHART_TYPE.test(typeOfUrn(parentUrn));
}

const UPSTREAM_CONFIG = {
  upstreamChartImages: {
    type: "array",
    items: { type: "string", pattern: "^[^@]+:[^/@:]+$" },
    default: DEFAULT_UPSTREAM_CHART_IMAGES,
    description:
      "Exact `<registry>/<repository>:<tag>` images that pods rendered by a Helm chart may run by tag and from their upstream registry.",
  },
} as const;

export const imagePinnedByDigest: ResourceValidationPolicy = {
  name: "image-pinned-by-digest",
  description:
    "Every container image is referenced by digest (`<registry>/<repository>@sha256:<digest>`), never by a tag; the listed upstream images of a pinned chart excepted.",
  enforcementLevel: "mandatory",
  configSchema: { properties: UPSTREAM_CONFIG },
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    const { upstreamChartImages } = configWithDefaults(args, { upstreamChartImages: DEFAULT_UPSTREAM_CHART_IMAGES });
    const fromChart = renderedByChart(args.opts.parent);
    for (const container of containersOf(pod)) {
      const image = stringOf(container.fields["image"]);
      if (image !== undefined && DIGEST_REFERENCE.test(image)) continue;
      if (image === undefined && pod.patch) continue;
      if (image !== undefined && fromChart && upstreamChartImages.includes(image)) continue;
      const shown = image === undefined ? "is not set" : `is "${image}", which is not pinned by digest`;
      reportViolation(
        `${containerLabel(pod, container)}: ${container.path}.image ${shown}; reference the image as <registry>/<repository>@sha256:<digest> so every rollout and rollback is exact.`,
      );
    }
  },
};

/** This stack's own private ECR registries, in any region: `{account}` stands for each account of the stack. */
export const DEFAULT_ALLOWED_REGISTRIES = ["{account}.dkr.ecr.*.amazonaws.com"];

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

/** The patterns with `{account}` expanded to each of the stack's accounts. */
function expandAccounts(patterns: readonly string[], accounts: ReadonlySet<string>): string[] {
  return patterns.flatMap((p) =>
    p.includes("{account}") ? [...accounts].map((a) => p.replaceAll("{account}", a)) : [p],
  );
}

/** A pattern that admits the private ECR registry of any account (a wildcard where the account ID goes). */
function admitsAnyAccount(pattern: string): boolean {
  const match = /^([^.]*)\.dkr\.ecr/i.exec(pattern);
  return match !== null && match[1] !== undefined && !/^\d{12}$/.test(match[1]) && match[1] !== "{account}";
}

/** The stack's accounts from the ARNs known now; unknown ones (at preview) are skipped. */
function knownAccounts(resources: readonly StackResource[]): Set<string> {
  const accounts = new Set<string>();
  for (const resource of resources) {
    new Decisions().decide(resource.name, () => stackAccounts([resource]).forEach((a) => accounts.add(a)));
  }
  return accounts;
}

export const imageFromAllowedRegistry: StackValidationPolicy = {
  name: "image-from-allowed-registry",
  description:
    "Every container image comes from a registry on the configured allow-list (by default this stack's own private ECR registries); no pattern admits every account's ECR registry.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedRegistries: {
        type: "array",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        default: DEFAULT_ALLOWED_REGISTRIES,
        description:
          "Registry hosts images may come from; `*` matches any characters except `/`, `{account}` each account that owns this stack's resources. Docker Hub is `docker.io`.",
      },
      ...UPSTREAM_CONFIG,
    },
  },
  validateStack: (args, reportViolation) => {
    const { allowedRegistries, upstreamChartImages } = configWithDefaults(args, {
      allowedRegistries: DEFAULT_ALLOWED_REGISTRIES,
      upstreamChartImages: DEFAULT_UPSTREAM_CHART_IMAGES,
    });
    for (const pattern of allowedRegistries.filter(admitsAnyAccount)) {
      reportViolation(
        `allowedRegistries pattern "${pattern}" admits the private ECR registry of every AWS account, so anyone's image passes; name the account (or use {account}).`,
      );
    }
    const decisions = new Decisions();
    const accounts = knownAccounts(args.resources);
    const patterns = expandAccounts(allowedRegistries, accounts);
    // On a new stack at preview no ARN is known yet: an image that only `{account}` could admit is left undecided.
    const undecidable = accounts.size === 0 && allowedRegistries.some((p) => p.includes("{account}"));
    for (const resource of args.resources) {
      const pod = podSpecOf(resource.type, resource.name, resource.props);
      if (pod === undefined) continue;
      const fromChart = renderedByChart(resource.parent?.urn);
      decisions.decide(pod.label, () => {
        for (const container of containersOf(pod)) {
          const image = stringOf(container.fields["image"]);
          if (image === undefined) continue; // image-pinned-by-digest reports it
          if (fromChart && upstreamChartImages.includes(image)) continue;
          const registry = registryOf(image);
          if (patterns.some((pattern) => registryMatches(pattern, registry))) continue;
          if (undecidable && /\.dkr\.ecr\./.test(registry)) {
            decisions.note(
              pod.label,
              `the stack's account is unknown, so whether registry ${registry} is its own is undecided`,
            );
            continue;
          }
          reportViolation(
            `${containerLabel(pod, container)}: ${container.path}.image comes from registry "${registry}", which is not in allowedRegistries (${allowedRegistries.join(", ")}); push the image to an allowed registry or add the registry to this policy's allowedRegistries.`,
            resource.urn,
          );
        }
      });
    }
    decisions.settle();
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
