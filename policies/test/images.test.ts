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

describe("image-from-allowed-registry", () => {
  it("passes images from private ECR by default", async () => {
    assert.deepEqual(await resourceViolations(imageFromAllowedRegistry, goodResources().deployment), []);
  });

  it("rejects images from other registries, Docker Hub included", async () => {
    assert.deepEqual(await resourceViolations(imageFromAllowedRegistry, withImage(`node@${DIGEST}`)), [
      `${CONTAINER}: ${C}.image comes from registry "docker.io", which is not in allowedRegistries (*.dkr.ecr.*.amazonaws.com); push the image to an allowed registry or add the registry to this policy's allowedRegistries.`,
    ]);
  });

  it("follows the configured allow-list", async () => {
    const config = { allowedRegistries: ["ghcr.io"] };
    assert.deepEqual(
      await resourceViolations(imageFromAllowedRegistry, withImage(`ghcr.io/acme/consumer@${DIGEST}`), config),
      [],
    );
    assert.equal((await resourceViolations(imageFromAllowedRegistry, goodResources().deployment, config)).length, 1);
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
