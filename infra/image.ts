/**
 * The consumer image: an ECR repository (scanned on push, old images expired; on a long-lived stack protected
 * and retained, on an ephemeral one deleted with its images: infra/lifecycle.ts) and the
 * image built from consumer/Dockerfile and pushed with short-lived ECR credentials. The Deployment uses the
 * pushed digest, never a tag, so every change rolls out and every rollback is exact.
 */
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { BuildInfo } from "./build-info";
import type { ImagePlatform, LifecycleConfig } from "./config";
import { repositoryStateOptions } from "./lifecycle";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/** Images kept in the repository: enough to roll back a few deployments. */
export const IMAGES_KEPT = 10;

/** An ECR lifecycle policy document (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html). */
export interface LifecyclePolicyDocument {
  readonly rules: readonly {
    readonly rulePriority: number;
    readonly description: string;
    readonly selection: {
      readonly tagStatus: "any" | "tagged" | "untagged";
      readonly countType: "imageCountMoreThan";
      readonly countNumber: number;
    };
    readonly action: { readonly type: "expire" };
  }[];
}

/** Keeps the newest `IMAGES_KEPT` images, tagged or not (the Deployment references digests, not tags). */
export function lifecyclePolicy(): LifecyclePolicyDocument {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Keep the ${IMAGES_KEPT} newest images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: IMAGES_KEPT },
        action: { type: "expire" },
      },
    ],
  };
}

export interface ConsumerImageArgs {
  /** Project and stack: the ECR repository is `<project>-<stack>-consumer`. */
  readonly scope: NameScope;
  /** Absolute path of the repository root: the build context (consumer/Dockerfile copies from it). */
  readonly repoRoot: string;
  /** Platform to build for; must match the nodes' architecture. */
  readonly platform: ImagePlatform;
  /** Commit and commit time, passed as the GIT_COMMIT and BUILD_TIME build arguments. */
  readonly buildInfo: BuildInfo;
  /** Long-lived (the repository protected, retained, not force-deleted) or ephemeral (deleted with its images). */
  readonly lifecycle: LifecycleConfig;
  /** Tags for the repository. */
  readonly tags: Readonly<Record<string, string>>;
}

/** The ECR repository `<project>-<stack>-consumer`, its lifecycle policy, and the consumer image built and pushed to it. */
export class ConsumerImage extends pulumi.ComponentResource {
  /** The ECR repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>). */
  readonly repositoryUrl: pulumi.Output<string>;
  /** The pushed image by digest: <repositoryUrl>@sha256:<digest>. */
  readonly imageReference: pulumi.Output<string>;

  constructor(name: string, args: ConsumerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:image:ConsumerImage", name, {}, opts);

    const repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: scopedName(args.scope, "consumer", NAME_LIMITS.ecrRepository),
        imageScanningConfiguration: { scanOnPush: true },
        // Tags are labels for people (the short commit); the digest is what deploys. A mutable tag lets a
        // rebuilt commit (a dirty tree, a new base image) be pushed again.
        imageTagMutability: "MUTABLE",
        // ECR refuses to delete a repository that holds images unless forced (RepositoryNotEmptyException).
        forceDelete: args.lifecycle.ephemeral,
        tags: args.tags,
      },
      { parent: this, ...repositoryStateOptions(args.lifecycle) },
    );

    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      { repository: repository.name, policy: pulumi.jsonStringify(lifecyclePolicy()) },
      { parent: this },
    );

    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
    // Paths relative to the working directory (the project root under `pulumi up`), so the image's inputs
    // do not change from one machine to another.
    const context = path.relative(process.cwd(), args.repoRoot) || ".";
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: pulumi.interpolate`${repository.repositoryUrl}:${imageTag(args.buildInfo)}`,
        build: {
          context,
          dockerfile: path.join(context, "consumer", "Dockerfile"),
          platform: args.platform,
          args: { GIT_COMMIT: args.buildInfo.gitCommit, BUILD_TIME: args.buildInfo.buildTime },
        },
        registry: {
          server: repository.repositoryUrl.apply((url) => url.split("/")[0] ?? url),
          username: token.userName,
          password: pulumi.secret(token.password),
        },
      },
      { parent: this },
    );

    this.repositoryUrl = repository.repositoryUrl;
    this.imageReference = image.repoDigest;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, imageReference: this.imageReference });
  }
}

/** A human-readable tag for the pushed image: the short commit (the digest is what deploys). */
export function imageTag(buildInfo: BuildInfo): string {
  return buildInfo.gitCommit === "unknown" ? "unknown" : buildInfo.gitCommit.slice(0, 12);
}
