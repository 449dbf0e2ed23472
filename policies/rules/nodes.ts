/**
 * Worker nodes: IMDSv2 only, with a hop limit of 1, so a pod cannot reach the node's instance role
 * through the instance metadata service and must use its own IRSA role.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { childrenOf, ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS, EKS, kindOf } from "../lib/types";
import { integerOf, isRecord, recordOf, stringOf } from "../lib/values";

const METADATA_FIX = 'metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 }';

export const launchTemplateImdsv2: ResourceValidationPolicy = {
  name: "launch-template-imdsv2",
  description:
    "Every launch template (or launch configuration) the stack creates requires IMDSv2 tokens and a metadata hop limit of 1.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== AWS.launchTemplate && args.type !== AWS.launchConfiguration) return;
    const options = recordOf(args.props["metadataOptions"]);
    if (options["httpEndpoint"] === "disabled") return; // no metadata service at all
    const label = `${kindOf(args.type)} "${args.name}"`;
    const tokens = stringOf(options["httpTokens"]);
    if (tokens !== "required") {
      const state = tokens === undefined ? "is not set" : `is "${tokens}"`;
      reportViolation(`${label}: metadataOptions.httpTokens ${state}; set it to "required" so only IMDSv2 is served.`);
    }
    const hopLimit = integerOf(options["httpPutResponseHopLimit"]);
    if (hopLimit !== 1) {
      const state = hopLimit === undefined ? "is not set" : `is ${hopLimit}`;
      reportViolation(
        `${label}: metadataOptions.httpPutResponseHopLimit ${state}; set it to 1 so pods cannot reach the node's instance role through IMDS.`,
      );
    }
  },
};

/** The launch template a node group's `launchTemplate: { id | name, version }` designates, if the stack creates it. */
function launchTemplateProblem(group: StackResource, resources: readonly StackResource[]): string | undefined {
  const reference: unknown = group.props["launchTemplate"];
  if (!isRecord(reference)) {
    return `has no launch template, so EKS applies its default metadata options (hop limit 2, which lets pods reach the node's instance role); give it a launch template with ${METADATA_FIX}`;
  }
  const ref = reference["id"] ?? reference["name"];
  if (ofType(resources, AWS.launchTemplate).some((t) => refersTo(t, ref))) return undefined;
  return `uses launch template ${String(ref)}, which this stack does not create, so its metadata options cannot be checked; create the launch template in this stack with ${METADATA_FIX}`;
}

export const nodeGroupLaunchTemplate: StackValidationPolicy = {
  name: "node-group-launch-template",
  description:
    "Every node group the stack creates uses a launch template from the same stack, which launch-template-imdsv2 then checks.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const { resources } = args;
    for (const group of ofType(resources, AWS.eksNodeGroup)) {
      const problem = launchTemplateProblem(group, resources);
      if (problem !== undefined) reportViolation(`Node group "${group.name}" ${problem}.`, group.urn);
    }
    // @pulumi/eks components are checked by their inputs only when the stack holds none of their
    // children (as under mocks); under the Pulumi CLI their aws:eks NodeGroup and launch templates are.
    const childless = (type: string) => ofType(resources, type).filter((c) => childrenOf(c, resources).length === 0);
    for (const group of childless(EKS.managedNodeGroup)) {
      const problem = launchTemplateProblem(group, resources);
      if (problem !== undefined) {
        reportViolation(`Node group "${group.name}" ${problem} (enableIMDSv2 alone keeps hop limit 2).`, group.urn);
      }
    }
    for (const group of [...childless(EKS.nodeGroup), ...childless(EKS.nodeGroupV2)]) {
      reportViolation(
        `Node group "${group.name}" is a self-managed @pulumi/eks node group whose launch template cannot be checked before it exists; use aws.eks.NodeGroup or eks.ManagedNodeGroup with a launch template this stack creates.`,
        group.urn,
      );
    }
    for (const cluster of childless(EKS.cluster)) {
      if (cluster.props["skipDefaultNodeGroup"] === true || cluster.props["fargate"] !== undefined) continue;
      reportViolation(
        `Cluster "${cluster.name}" creates a default node group, whose launch template does not pin IMDSv2 with hop limit 1; set skipDefaultNodeGroup: true and add a node group with a launch template this stack creates.`,
        cluster.urn,
      );
    }
  },
};
