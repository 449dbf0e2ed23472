/**
 * The CPU architectures a cluster's nodes run, so that `imagePlatform` is checked in every cluster mode: an
 * image of the wrong architecture would otherwise end in `exec format error` when the pod starts.
 * - create:   the managed node group's AMI type (exported as `nodeArchitectures` for borrowing stacks);
 * - stack:    the `nodeArchitectures` output of the stack that created the cluster;
 * - existing: the cluster's managed node groups, looked up (self-managed nodes, Karpenter and Fargate are
 *             not visible to this look-up: then the check warns and lets the deployment go on).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { instanceArchitecture, platformArchitecture, type ImagePlatform } from "./config";

export type Architecture = "amd64" | "arm64";

/** EKS AMI types name ARM in their value (AL2023_ARM_64_STANDARD, BOTTLEROCKET_ARM_64, ...); CUSTOM says nothing. */
export function amiTypeArchitecture(amiType: string, instanceTypes: readonly string[]): Architecture {
  if (amiType === "CUSTOM" && instanceTypes[0] !== undefined) return instanceArchitecture(instanceTypes[0]);
  return /ARM/.test(amiType) ? "arm64" : "amd64";
}

/** The architectures of an existing cluster's managed node groups (empty when it has none). */
export function managedNodeArchitectures(
  clusterName: pulumi.Input<string>,
  opts: pulumi.InvokeOptions,
): pulumi.Output<Architecture[]> {
  const groups = aws.eks.getNodeGroupsOutput({ clusterName }, opts);
  return groups.names.apply((names) =>
    pulumi
      .all([...names].sort().map((nodeGroupName) => aws.eks.getNodeGroupOutput({ clusterName, nodeGroupName }, opts)))
      .apply((found) =>
        [...new Set(found.map((group) => amiTypeArchitecture(group.amiType, group.instanceTypes)))].sort(),
      ),
  );
}

/**
 * Passes `value` on once the nodes can run the image; fails the deployment at preview otherwise.
 * @param architectures the nodes' architectures; undefined or empty when they cannot be known (then a warning).
 * @param source where they came from, for the message.
 */
export function requireImageArchitecture(
  value: pulumi.Output<string>,
  architectures: pulumi.Output<readonly string[] | undefined>,
  imagePlatform: ImagePlatform,
  source: string,
): pulumi.Output<string> {
  const wanted = platformArchitecture(imagePlatform);
  return pulumi.all([value, architectures]).apply(([passed, found]) => {
    if (found === undefined || found.length === 0) {
      void pulumi.log.warn(
        `cannot tell the nodes' CPU architecture from ${source}; make sure they run ${wanted}, the imagePlatform ${imagePlatform}`,
      );
    } else if (!found.includes(wanted)) {
      throw new pulumi.RunError(
        `imagePlatform is ${imagePlatform}, but the nodes (${source}) run ${found.join(", ")}; the pods would fail with "exec format error"`,
      );
    }
    return passed;
  });
}
