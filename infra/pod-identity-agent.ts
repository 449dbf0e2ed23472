/**
 * The EKS Pod Identity Agent: the DaemonSet (host network, 169.254.170.23 and [fd00:ec2::23], ports 80 and
 * 2703) that exchanges a pod's projected token for its association's credentials through
 * `eks-auth:AssumeRoleForPodIdentity`, which the nodes' role gets from AmazonEKSWorkerNodePolicy
 * (EKS user guide, "pod-id-agent-setup", "pod-id-how-it-works").
 * `clusterPodIdentityAgent` decides, for a stack whose identity is pod-identity:
 * - a cluster this stack creates under EKS Auto Mode runs it on every node already (EKS user guide,
 *   "automode": Auto Mode manages the Pod Identity agent), and no add-on is installed;
 * - a cluster this stack creates with a managed node group gets it as the `eks-pod-identity-agent` add-on
 *   (PodIdentityAgent);
 * - a borrowed or adopted cluster must already run it: `requirePodIdentityAgent` accepts an Auto Mode
 *   cluster, else looks the add-on up and fails the preview, naming the cluster and the fix, when it is missing.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { pinnedAddon } from "./addons";
import type { TargetCluster } from "./cluster";
import type { IdentityMode } from "./config";

/** What the stack reports as the agent's version where EKS Auto Mode runs it. */
export const AUTO_MODE_AGENT = "built into EKS Auto Mode";

/** The add-on's name in the EKS add-on catalogue. */
export const POD_IDENTITY_AGENT_ADDON = "eks-pod-identity-agent";

export interface PodIdentityAgentArgs {
  /** Name of the EKS cluster to install the agent on. */
  readonly clusterName: pulumi.Input<string>;
  /** The cluster's Kubernetes version, for the add-on's default version. */
  readonly kubernetesVersion: pulumi.Input<string>;
  /** The stack's pin (`podIdentityAgentAddonVersion`); undefined: EKS's default at creation, then kept. */
  readonly version: string | undefined;
  /** Tags for the add-on. */
  readonly tags: Readonly<Record<string, string>>;
  /** What must exist first: the cluster and its nodes (EKS reports a DaemonSet add-on active only once it runs on nodes). */
  readonly after: readonly pulumi.Resource[];
}

/**
 * The version of the cluster's agent when the consumer's identity is pod-identity (undefined otherwise):
 * installed here, as the top-level component `name`, after a cluster this stack creates and its nodes;
 * looked up on a cluster it borrows or adopts.
 */
export function clusterPodIdentityAgent(
  name: string,
  args: {
    /** The consumer's identity mode: only pod-identity needs the agent. */
    readonly identity: IdentityMode;
    readonly cluster: TargetCluster;
    /** The pinned version of the add-on on a cluster this stack creates; undefined: EKS's default, then kept. */
    readonly version: string | undefined;
    /** Tags for the add-on. */
    readonly tags: Readonly<Record<string, string>>;
  },
): pulumi.Output<string> | undefined {
  const { identity, cluster, tags } = args;
  if (identity !== "pod-identity") return undefined;
  if (cluster.nodeProvisioning === "auto-mode") return cluster.clusterName.apply(() => AUTO_MODE_AGENT);
  if (cluster.mode === "create" && cluster.kubernetesVersion !== undefined) {
    return new PodIdentityAgent(name, {
      clusterName: cluster.clusterName,
      kubernetesVersion: cluster.kubernetesVersion,
      version: args.version,
      tags,
      after: cluster.addonsAfter,
    }).version;
  }
  return requirePodIdentityAgent(cluster.clusterName, {});
}

/**
 * The agent as an EKS add-on, installed after `args.after`, at the pinned version or EKS's default for the
 * cluster's Kubernetes version at creation, then kept (infra/addons.ts).
 */
export class PodIdentityAgent extends pulumi.ComponentResource {
  /** The installed add-on version (e.g. v1.3.8-eksbuild.2). */
  readonly version: pulumi.Output<string>;
  /** The add-on resource, for `dependsOn`. */
  readonly addon: aws.eks.Addon;

  constructor(name: string, args: PodIdentityAgentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:pod-identity-agent:PodIdentityAgent", name, {}, opts);
    this.addon = pinnedAddon(
      `${name}-addon`,
      {
        addon: "podIdentityAgent",
        clusterName: args.clusterName,
        kubernetesVersion: args.kubernetesVersion,
        version: args.version,
        tags: args.tags,
        after: args.after,
      },
      this,
    );
    this.version = this.addon.addonVersion;
    this.registerOutputs({ version: this.version });
  }
}

/**
 * The version of the `eks-pod-identity-agent` add-on on a cluster this stack does not create (AUTO_MODE_AGENT
 * when the cluster runs EKS Auto Mode, whose nodes run the agent); fails with a RunError naming the cluster
 * and the fix when neither holds. A self-managed agent (the
 * upstream Helm chart) is not seen by this lookup: such clusters should install the add-on instead.
 */
export function requirePodIdentityAgent(
  clusterName: pulumi.Input<string>,
  opts: pulumi.InvokeOptions,
): pulumi.Output<string> {
  return pulumi.output(clusterName).apply(async (name) => {
    const cluster = await aws.eks.getCluster({ name }, opts);
    if (cluster.computeConfigs.some((compute) => compute.enabled)) return AUTO_MODE_AGENT;
    try {
      const addon = await aws.eks.getAddon({ clusterName: name, addonName: POD_IDENTITY_AGENT_ADDON }, opts);
      return addon.addonVersion;
    } catch (error) {
      throw new pulumi.RunError(
        `identity is pod-identity, but EKS cluster ${name} has no ${POD_IDENTITY_AGENT_ADDON} add-on (${error instanceof Error ? error.message : String(error)}). ` +
          `Install it (aws eks create-addon --cluster-name ${name} --addon-name ${POD_IDENTITY_AGENT_ADDON}; a stack that creates the cluster does this when its own identity is pod-identity), or set identity to irsa.`,
      );
    }
  });
}
