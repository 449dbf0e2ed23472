import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ecrLifecyclePolicy,
  ecrScanOnPush,
  imageFromAllowedRegistry,
  imagePinnedByDigest,
  registryMatches,
  registryOf,
} from "../rules/images";
import { edit, resourceViolations, stackViolations } from "./harness";
import type { RecordedResource } from "../offline/evaluate";
import { DIGEST, goodResources, goodStack } from "./fixtures/good-stack";

const P = "spec.template.spec";
const C = `${P}.containers[0]`;
const CONTAINER = `Deployment "consumer" container "consumer"`;

function withImage(image: string | undefined) {
  return edit(goodResources().deployment, { [`${P}.containers.0.image`]: image });
}

describe("image-pinned-by-digest", () => {
  it("passes an image referenced by digest", async () => {
    assert.deepEqual(await resourceViolations(imagePinnedByDigest, goodResources().deployment), []);
  });

  it("rejects an image by tag, or none", async () => {
    const tagged = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/consumer-dev:latest";
    assert.deepEqual(await resourceViolations(imagePinnedByDigest, withImage(tagged)), [
      `${CONTAINER}: ${C}.image is "${tagged}", which is not pinned by digest; reference the image as <registry>/<repository>@sha256:<digest> so every rollout and rollback is exact.`,
    ]);
    assert.deepEqual(await resourceViolations(imagePinnedByDigest, withImage(undefined)), [
      `${CONTAINER}: ${C}.image is not set; reference the image as <registry>/<repository>@sha256:<digest> so every rollout and rollback is exact.`,
    ]);
  });
});

/** image-from-allowed-registry's messages for the good stack with the Deployment replaced by `deployment`. */
async function registryViolations(
  deployment: ReturnType<typeof withImage>,
  config?: Record<string, unknown>,
  others: Record<string, RecordedResource> = goodResources(),
): Promise<string[]> {
  const resources = Object.values({ ...others, deployment });
  return (await stackViolations(imageFromAllowedRegistry, resources, config)).map((f) => f.message);
}

describe("image-from-allowed-registry", () => {
  it("passes images from the stack's own private ECR by default", async () => {
    assert.deepEqual(await registryViolations(goodResources().deployment), []);
  });

  it("rejects images from other registries, Docker Hub and other accounts' ECR included", async () => {
    assert.deepEqual(await registryViolations(withImage(`node@${DIGEST}`)), [
      `${CONTAINER}: ${C}.image comes from registry "docker.io", which is not in allowedRegistries ({account}.dkr.ecr.*.amazonaws.com); push the image to an allowed registry or add the registry to this policy's allowedRegistries.`,
    ]);
    assert.deepEqual(await registryViolations(withImage(`210987654321.dkr.ecr.eu-west-1.amazonaws.com/x@${DIGEST}`)), [
      `${CONTAINER}: ${C}.image comes from registry "210987654321.dkr.ecr.eu-west-1.amazonaws.com", which is not in allowedRegistries ({account}.dkr.ecr.*.amazonaws.com); push the image to an allowed registry or add the registry to this policy's allowedRegistries.`,
    ]);
  });

  it("rejects an allow-list that admits every account's ECR registry", async () => {
    assert.deepEqual(
      await registryViolations(goodResources().deployment, { allowedRegistries: ["*.dkr.ecr.*.amazonaws.com"] }),
      [
        `allowedRegistries pattern "*.dkr.ecr.*.amazonaws.com" admits the private ECR registry of every AWS account, so anyone's image passes; name the account (or use {account}).`,
      ],
    );
  });

  it("leaves the stack's own registry undecided while no ARN is known (a new stack at preview)", async () => {
    const findings = await stackViolations(imageFromAllowedRegistry, [goodResources().deployment]);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.undecided, true);
  });

  it("lets a chart's pods run the listed upstream images by tag, and nothing else", async () => {
    const chartUrn = "urn:pulumi:dev::sqs-eks-consumer::kubernetes:helm.sh/v4:Chart::keda";
    const rendered = (image: string) => ({ ...withImage(image), parent: chartUrn });
    const withChart = {
      ...goodResources(),
      chart: { type: "kubernetes:helm.sh/v4:Chart", name: "keda", urn: chartUrn, props: {} },
    };
    assert.deepEqual(await registryViolations(rendered("ghcr.io/kedacore/keda:2.20.2"), undefined, withChart), []);
    assert.equal((await registryViolations(rendered("ghcr.io/kedacore/keda:2.20.3"), undefined, withChart)).length, 1);
    assert.equal((await registryViolations(withImage("ghcr.io/kedacore/keda:2.20.2"))).length, 1);
    const pinned = async (image: string, parent?: string) =>
      resourceViolations(imagePinnedByDigest, { ...withImage(image), ...(parent === undefined ? {} : { parent }) });
    assert.deepEqual(await pinned("ghcr.io/kedacore/keda-metrics-apiserver:2.20.2", chartUrn), []);
    assert.equal((await pinned("ghcr.io/kedacore/keda-metrics-apiserver:2.20.2")).length, 1);
  });

  it("follows the configured allow-list", async () => {
    const config = { allowedRegistries: ["ghcr.io"] };
    assert.deepEqual(await registryViolations(withImage(`ghcr.io/acme/consumer@${DIGEST}`), config), []);
    assert.equal((await registryViolations(goodResources().deployment, config)).length, 1);
  });

  it("finds the registry host of a reference", () => {
    assert.equal(registryOf("node:24"), "docker.io");
    assert.equal(registryOf("library/node:24"), "docker.io");
    assert.equal(registryOf("localhost:5000/app:1"), "localhost:5000");
    assert.equal(registryOf("public.ecr.aws/docker/library/node:24"), "public.ecr.aws");
    assert.equal(registryMatches("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"), true);
    assert.equal(registryMatches("*.dkr.ecr.*.amazonaws.com", "evil.com/x.dkr.ecr.y.amazonaws.com"), false);
    assert.equal(
      registryMatches("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.com"),
      false,
    );
  });
});

describe("ecr-scan-on-push", () => {
  it("passes a repository that scans on push", async () => {
    assert.deepEqual(await resourceViolations(ecrScanOnPush, goodResources().repository), []);
  });

  it("rejects one that does not", async () => {
    const repository = edit(goodResources().repository, { imageScanningConfiguration: undefined });
    assert.deepEqual(await resourceViolations(ecrScanOnPush, repository), [
      `ECR repository "consumer-image" does not scan images on push; set imageScanningConfiguration: { scanOnPush: true }.`,
    ]);
  });
});

describe("ecr-lifecycle-policy", () => {
  it("passes a repository with a lifecycle policy", async () => {
    assert.deepEqual(await stackViolations(ecrLifecyclePolicy, goodStack()), []);
  });

  it("reports a repository without one", async () => {
    const { lifecyclePolicy: _dropped, ...rest } = goodResources();
    assert.deepEqual(await stackViolations(ecrLifecyclePolicy, Object.values(rest)), [
      {
        message: `ECR repository "consumer-image" has no lifecycle policy, so images pile up; add an aws.ecr.LifecyclePolicy that expires untagged and old images.`,
        urn: rest.repository.urn,
      },
    ]);
  });
});
