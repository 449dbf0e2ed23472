/**
 * Worker nodes: IMDSv2 only, with a hop limit of 1, so a pod cannot reach the node's instance role
 * through the instance metadata service and must use its own IRSA role.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { childrenOf, ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS, EKS, kindOf } from "../lib/types";
import { integerOf, isRecord, recordOf, stringOf, type Props } from "../lib/values";

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

const NODE_CLASS =
  /^kubernetes:(eks\.amazonaws\.com\/[^:]+:NodeClass|karpenter\.k8s\.aws\/[^:]+:EC2NodeClass)(Patch)?$/;
const NODE_POOL = /^kubernetes:karpenter\.sh\/[^:]+:NodePool(Patch)?$/;
/** The NodeClass EKS Auto Mode creates and manages itself (EKS user guide, "create-node-class"). */
const BUILT_IN_NODE_CLASSES = ["default"];

/** What one NodeClass (Auto Mode) or EC2NodeClass (Karpenter) sets that exposes the node or its role. */
function nodeClassProblems(spec: Props, resources: readonly StackResource[]): string[] {
  const problems: string[] = [];
  const role = stringOf(spec["role"]);
  if (role !== undefined && !ofType(resources, AWS.role).some((r) => refersTo(r, role)))
    problems.push(
      `spec.role "${role}" is not a role this stack defines, so the permissions every node (and any pod reaching IMDS) holds go unjudged; name the stack's node role`,
    );
  if (spec["instanceProfile"] !== undefined)
    problems.push(
      "spec.instanceProfile names an instance profile whose role this pack cannot see; name the stack's node role in spec.role instead",
    );
  // EC2NodeClass: Karpenter's defaults are httpTokens required and a hop limit of 1 (karpenter.sh docs, NodeClasses, spec.metadataOptions).
  const metadata = recordOf(spec["metadataOptions"]);
  if (metadata["httpEndpoint"] !== "disabled") {
    const tokens = stringOf(metadata["httpTokens"]);
    if (tokens !== undefined && tokens !== "required")
      problems.push(
        `spec.metadataOptions.httpTokens is "${tokens}"; remove it or set "required" so only IMDSv2 is served`,
      );
    const hopLimit = integerOf(metadata["httpPutResponseHopLimit"]);
    if (hopLimit !== undefined && hopLimit > 1)
      problems.push(
        `spec.metadataOptions.httpPutResponseHopLimit is ${hopLimit}, so pods can reach the node's instance role through IMDS; remove it or set 1`,
      );
  }
  // Auto Mode: advancedNetworking.associatePublicIPAddress (EKS user guide, "create-node-class"); Karpenter: spec.associatePublicIPAddress.
  if (
    recordOf(spec["advancedNetworking"])["associatePublicIPAddress"] === true ||
    spec["associatePublicIPAddress"] === true
  )
    problems.push(
      "gives every node a public IP address; remove associatePublicIPAddress and keep nodes in private subnets",
    );
  return problems;
}

export const nodeClassHardened: StackValidationPolicy = {
  name: "node-class-hardened",
  description:
    "Every Auto Mode NodeClass or Karpenter EC2NodeClass the stack defines names one of the stack's roles (never an instance profile), keeps IMDSv2 only with a hop limit of 1, and gives nodes no public IP address; every NodePool's nodeClassRef names the built-in default NodeClass or one the stack defines.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const { resources } = args;
    const classNames = new Set<string>();
    for (const nodeClass of resources.filter((r) => NODE_CLASS.test(r.type))) {
      const name = stringOf(recordOf(nodeClass.props["metadata"])["name"]);
      if (name !== undefined) classNames.add(name);
      for (const problem of nodeClassProblems(recordOf(nodeClass.props["spec"]), resources))
        reportViolation(`${kindOf(nodeClass.type)} "${nodeClass.name}": ${problem}.`, nodeClass.urn);
    }
    for (const pool of resources.filter((r) => NODE_POOL.test(r.type))) {
      const ref = recordOf(recordOf(recordOf(recordOf(pool.props["spec"])["template"])["spec"])["nodeClassRef"]);
      const name = stringOf(ref["name"]);
      if (name === undefined) continue;
      const builtIn = stringOf(ref["group"]) === "eks.amazonaws.com" && BUILT_IN_NODE_CLASSES.includes(name);
      if (!builtIn && !classNames.has(name))
        reportViolation(
          `NodePool "${pool.name}": spec.template.spec.nodeClassRef names NodeClass "${name}", which this stack does not define, so the role, metadata options and network of its nodes go unjudged; define the NodeClass in this stack or use Auto Mode's "default".`,
          pool.urn,
        );
    }
  },
};
