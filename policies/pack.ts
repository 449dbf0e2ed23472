/**
 * The policy pack's contents: its name and every rule, in the order reports list them. Importing this
 * module has no side effects; `index.ts` serves the pack to the Pulumi CLI, the offline runner and the
 * tests evaluate the same list directly.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dlqAlarmed } from "./rules/alarms";
import {
  scaledObjectBoundedMax,
  scalerRoleReadsQueueAttributesOnly,
  triggerAuthenticationKedaIdentity,
} from "./rules/autoscaling";
import { roleLeastPrivilege, roleTrustPinned } from "./rules/iam";
import { ecrLifecyclePolicy, ecrScanOnPush, imageFromAllowedRegistry, imagePinnedByDigest } from "./rules/images";
import {
  containerResourcesSet,
  namespaceEnforcesRestricted,
  noStaticAwsCredentials,
  pdbForReplicatedDeployments,
} from "./rules/kubernetes";
import { launchTemplateImdsv2, nodeClassHardened, nodeGroupLaunchTemplate } from "./rules/nodes";
import { containerReadOnlyRootFilesystem, podSecurityRestricted } from "./rules/pod-security";
import { dlqTypeMatchesSource } from "./rules/dlq-type";
import {
  admissionPolicyEnforced,
  clusterAccessScoped,
  clusterEndpointRestricted,
  rbacLeastPrivilege,
  workloadNotInternetFacing,
} from "./rules/cluster-access";
import { packagedObjectsVisible, unknownResourceReviewed } from "./rules/coverage";
import { alarmTopicDeliverable, resourcePolicyNotPublic } from "./rules/resource-policies";
import { kedaTriggerCredentials, workloadRoleInStack } from "./rules/workload-identity";
import {
  dlqRetentionCoversSource,
  queueDeniesInsecureTransport,
  queueEncrypted,
  queuePolicyGrantsNothing,
  queueRedrivePolicy,
} from "./rules/queues";

export type PackPolicy = ResourceValidationPolicy | StackValidationPolicy;

export const PACK_NAME = "sqs-eks-consumer";

/** The level of a policy that sets none (every rule here sets its own). */
export const PACK_ENFORCEMENT_LEVEL = "mandatory";

export const PACK_DESCRIPTION =
  "Security and reliability invariants of sqs-eks-consumer, judged by effect: pinned role trust, least privilege per role purpose, workloads only on the stack's roles, encrypted TLS-only queues with dead-letter queues that page someone, private resource policies, a narrow API endpoint and scoped cluster access, no static credentials, restricted pods, pinned images, IMDSv2-only nodes.";

/** The version the Pulumi CLI reports for the pack: policies/package.json's, as `PolicyPack` reads it. */
export function packVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, "package.json"), "utf8"));
  const version =
    typeof manifest === "object" && manifest !== null ? (manifest as { version?: unknown }).version : undefined;
  if (typeof version !== "string" || version === "") throw new Error("policies/package.json has no version");
  return version;
}

export const POLICIES: readonly PackPolicy[] = [
  roleTrustPinned,
  roleLeastPrivilege,
  queueEncrypted,
  queueRedrivePolicy,
  dlqRetentionCoversSource,
  dlqTypeMatchesSource,
  queueDeniesInsecureTransport,
  dlqAlarmed,
  queuePolicyGrantsNothing,
  noStaticAwsCredentials,
  namespaceEnforcesRestricted,
  podSecurityRestricted,
  containerReadOnlyRootFilesystem,
  imagePinnedByDigest,
  imageFromAllowedRegistry,
  ecrScanOnPush,
  launchTemplateImdsv2,
  nodeGroupLaunchTemplate,
  nodeClassHardened,
  containerResourcesSet,
  pdbForReplicatedDeployments,
  ecrLifecyclePolicy,
  scaledObjectBoundedMax,
  triggerAuthenticationKedaIdentity,
  scalerRoleReadsQueueAttributesOnly,
  kedaTriggerCredentials,
  workloadRoleInStack,
  clusterEndpointRestricted,
  clusterAccessScoped,
  rbacLeastPrivilege,
  admissionPolicyEnforced,
  workloadNotInternetFacing,
  resourcePolicyNotPublic,
  alarmTopicDeliverable,
  packagedObjectsVisible,
  unknownResourceReviewed,
];
