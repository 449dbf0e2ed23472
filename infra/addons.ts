/**
 * The EKS add-ons of a cluster this stack creates, at versions that an unrelated `pulumi up` never changes.
 * pulumi-eks would install `vpc-cni` and `kube-proxy` itself at the newest version it finds on every run
 * (`mostRecent: true` in pulumi/pulumi-eks v4.3.0 nodejs/eks/cluster/cluster.ts and
 * nodejs/eks/addons/cni-addon.ts) and, with the default node group skipped, leave CoreDNS unmanaged; the
 * program turns those off and manages all three here, with the Pod Identity agent in pod-identity mode.
 *
 * Each add-on's version is the stack's pin (`<addon>AddonVersion`) when set; unset, it is the version EKS
 * names as default for the cluster's Kubernetes version (`aws.eks.getAddonVersion`, DescribeAddonVersions'
 * `defaultVersion`) when the add-on is created, and from then on the program leaves the version alone
 * (`ignoreChanges`), so only a change of the pin upgrades it. EKS installed the self-managed versions of
 * the first three when it created the cluster (`bootstrapSelfManagedAddons`); creating the managed add-on
 * takes them over (`resolveConflictsOnCreate: OVERWRITE`, EKS user guide, "Creating an Amazon EKS add-on").
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** The add-ons this module manages, by config key prefix: the EKS add-on name and whether to keep it on delete. */
export const EKS_ADDONS = {
  vpcCni: { addonName: "vpc-cni", preserve: true },
  kubeProxy: { addonName: "kube-proxy", preserve: true },
  coredns: { addonName: "coredns", preserve: true },
  podIdentityAgent: { addonName: "eks-pod-identity-agent", preserve: false },
} as const;
export type EksAddon = keyof typeof EKS_ADDONS;

export interface PinnedAddonArgs {
  readonly addon: EksAddon;
  readonly clusterName: pulumi.Input<string>;
  /** The cluster's Kubernetes version (minor, e.g. 1.34), for the default version's look-up. */
  readonly kubernetesVersion: pulumi.Input<string>;
  /** The stack's pin; undefined: EKS's default at creation, then kept. */
  readonly version: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** What must exist first (the nodes, for add-ons that run pods). */
  readonly after: readonly pulumi.Resource[];
}

/** One EKS add-on at a version later runs do not move. `name` names the add-on resource. */
export function pinnedAddon(name: string, args: PinnedAddonArgs, parent: pulumi.Resource): aws.eks.Addon {
  const { addonName, preserve } = EKS_ADDONS[args.addon];
  const version =
    args.version ??
    aws.eks.getAddonVersionOutput(
      { addonName, kubernetesVersion: args.kubernetesVersion, mostRecent: false },
      { parent },
    ).version;
  return new aws.eks.Addon(
    name,
    {
      clusterName: args.clusterName,
      addonName,
      addonVersion: version,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      preserve,
      tags: args.tags,
    },
    {
      parent,
      dependsOn: [...args.after],
      // Unpinned, the version chosen at creation stays: a later default does not upgrade it.
      ignoreChanges: args.version === undefined ? ["addonVersion"] : [],
    },
  );
}
