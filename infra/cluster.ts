/**
 * The Kubernetes cluster this stack deploys into (`TargetCluster`), got in one of three ways, as the
 * stack's `clusterMode` says (infra/config/cluster.ts validates it):
 * - create: the `Cluster` component, a new EKS cluster in its own network (infra/network.ts) with an IAM
 *           OIDC provider, access entries (infra/cluster-access.ts) and nodes that follow the pods: EKS Auto
 *           Mode by default (`nodeProvisioning: auto-mode`; AWS-managed Karpenter launches nodes for pending
 *           pods and consolidates idle ones), or a managed node group of fixed size (`node-group`). Either
 *           way the nodes do not hand their instance role to pods (IMDSv2 required, hop limit 1: a pod's
 *           request cannot reach IMDS). An access entry for each listed developer (what they may do there is
 *           infra/developer-access.ts); on a long-lived stack the cluster and its OIDC provider are protected
 *           and the cluster has EKS deletion protection (infra/lifecycle.ts);
 * - borrow: `borrowCluster`, the cluster of a create-mode stack of this project, found by its name in AWS
 *           and never through that stack's state (whose secrets a developer cannot decrypt), with the
 *           platform's developer directory read from the cluster; the stack makes its own namespace
 *           (infra/developer-namespace.ts);
 * - adopt:  `adoptCluster`, an EKS cluster looked up by name, with its IAM OIDC provider; never changed.
 * Every mode yields the same things: the cluster's name, a kubeconfig, the OIDC provider that IRSA trusts,
 * and a Kubernetes provider for the workload, which waits until the nodes are known to run the image's
 * architecture (infra/node-architecture.ts). `targetCluster` picks the way.
 *
 * Names: the cluster's is fixed (borrowing stacks and kubeconfigs refer to it); the node group, its launch
 * template and the node and cluster roles are named by prefix, so that a change that replaces one creates the new one
 * before deleting the old (docs/DEPLOY.md, "What a change replaces").
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedAddon } from "./addons";
import { accessEntries, checkedAccessEntries, requireCallerAccess } from "./cluster-access";
import {
  platformArchitecture,
  type ClusterConfig,
  type ClusterMode,
  type ImagePlatform,
  type LifecycleConfig,
  type NodeProvisioning,
} from "./config";
import {
  DIRECTORY_KEY,
  DIRECTORY_NAMESPACE,
  developerAccessEntries,
  developerAccessNames,
  type DeveloperDirectory,
} from "./developer-access";
import { developerOf, type DeveloperGrant } from "./developer-namespace";
import { ec2AssumeRolePolicy, eksAssumeRolePolicy } from "./iam-documents";
import { eksKubeconfig } from "./kubeconfig";
import { clusterStateOptions } from "./lifecycle";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";
import type { ClusterNetwork } from "./network";
import { managedNodeArchitectures, requireImageArchitecture } from "./node-architecture";

/**
 * The AWS managed policies EKS's cluster role needs, by logical name suffix: the cluster policy (EKS user guide,
 * "cluster-iam-role") and, under EKS Auto Mode, the four that let EKS launch instances, attach volumes, manage
 * load balancers and pod networking for the cluster (EKS user guide, "auto-cluster-iam-role").
 */
export const CLUSTER_MANAGED_POLICIES = {
  "auto-mode": {
    policy: "AmazonEKSClusterPolicy",
    compute: "AmazonEKSComputePolicy",
    storage: "AmazonEKSBlockStoragePolicy",
    loadbalancing: "AmazonEKSLoadBalancingPolicy",
    networking: "AmazonEKSNetworkingPolicy",
  },
  "node-group": { policy: "AmazonEKSClusterPolicy" },
} as const;

/**
 * The AWS managed policies the nodes' role needs, by logical name suffix. Managed node groups: join the
 * cluster, run the VPC CNI, pull images from ECR (EKS user guide, "create-node-role"). Auto Mode nodes: the
 * minimal worker policy (the Pod Identity agent's `eks-auth:AssumeRoleForPodIdentity`) and ECR pulls; EKS
 * runs the networking on the node itself (EKS user guide, "auto-create-node-role").
 */
export const NODE_MANAGED_POLICIES = {
  "auto-mode": { worker: "AmazonEKSWorkerNodeMinimalPolicy", ecr: "AmazonEC2ContainerRegistryPullOnly" },
  "node-group": {
    worker: "AmazonEKSWorkerNodePolicy",
    cni: "AmazonEKS_CNI_Policy",
    ecr: "AmazonEC2ContainerRegistryPullOnly",
  },
} as const;

/**
 * EKS Auto Mode's built-in NodePools (EKS user guide, "set-builtin-node-pools"): `system` (tainted
 * CriticalAddonsOnly, amd64 and arm64) and `general-purpose` (amd64 only), both on-demand C, M and R
 * instances of generation 5 or newer, on the `default` NodeClass.
 */
export const AUTO_MODE_NODE_POOLS = ["general-purpose", "system"] as const;

/** The architectures the built-in general-purpose NodePool launches (EKS user guide, "set-builtin-node-pools"). */
const GENERAL_PURPOSE_ARCHITECTURES = ["amd64"] as const;

/** The `Cluster` component's type token. */
const CLUSTER_TYPE = "sqs-eks-consumer:cluster:Cluster";

/** The cluster this stack deploys into, whichever way it got it. */
export interface TargetCluster {
  /** How this stack got the cluster: created it, borrowed it from another stack, or adopted it. */
  readonly mode: ClusterMode;
  /** EKS cluster name. */
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig (JSON) that authenticates with `aws eks get-token`; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** ARN of the cluster's IAM OIDC provider; "" for an adopted cluster when nothing needs one (requireOidcProvider). */
  readonly oidcProviderArn: pulumi.Output<string>;
  /** The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>). */
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** Kubernetes provider for everything deployed into the cluster. */
  readonly provider: k8s.Provider;
  /** create mode: how the nodes are provisioned (EKS Auto Mode or a managed node group); undefined otherwise. */
  readonly nodeProvisioning: NodeProvisioning | undefined;
  /** The nodes' CPU architectures (create mode; empty otherwise). */
  readonly nodeArchitectures: pulumi.Output<string[]>;
  /** borrow mode: the developer running this stack and the platform's directory; undefined otherwise. */
  readonly developerGrant: pulumi.Output<DeveloperGrant> | undefined;
  /** What a cluster add-on installed by this stack waits for: the created cluster with its nodes; none otherwise. */
  readonly addonsAfter: readonly pulumi.Resource[];
  /** The created cluster's Kubernetes version, for add-on versions (create mode; undefined otherwise). */
  readonly kubernetesVersion: pulumi.Output<string> | undefined;
}

/** What every mode needs to find or make the cluster. */
export interface TargetClusterArgs {
  /** Which cluster, validated by infra/config/. */
  readonly config: ClusterConfig;
  /** create mode: where the cluster lives and who reaches its API endpoint (required there); ignored otherwise. */
  readonly network: ClusterNetwork | undefined;
  /** Project and stack, for physical names. */
  readonly scope: NameScope;
  /** AWS region of the stack. */
  readonly region: string;
  /** Platform of the consumer image; create mode picks the nodes' AMI from it, every mode checks the nodes against it. */
  readonly imagePlatform: ImagePlatform;
  /** Tags for every AWS resource created here. */
  readonly tags: Readonly<Record<string, string>>;
  /** create mode: long-lived (the cluster protected, with EKS deletion protection) or ephemeral (neither). */
  readonly lifecycle: LifecycleConfig;
  /** The permissions boundary of the roles created here (`rolePermissionsBoundary`); undefined: none. */
  readonly permissionsBoundary: string | undefined;
}

/** The name of the EKS cluster a create-mode stack makes: `<project>-<stack>`, fixed (borrowers and kubeconfigs name it). */
export function createdClusterName(scope: NameScope): string {
  return scopedName(scope, "", NAME_LIMITS.eksCluster);
}

/**
 * The cluster this stack deploys into: created (`Cluster`), borrowed (`borrowCluster`) or adopted
 * (`adoptCluster`), as `args.config.mode` says. `name` names the component or, for the others, the
 * resources registered to reach the cluster (`<name>-developer-directory`, `<name>-k8s`). `opts` are the created
 * cluster's (a `dependsOn` holds it back until a check passes); the other modes register nothing to hold back.
 */
export function targetCluster(
  name: string,
  args: TargetClusterArgs,
  opts?: pulumi.ComponentResourceOptions,
): TargetCluster {
  const config = args.config;
  switch (config.mode) {
    case "create":
      return new Cluster(name, { ...args, config }, opts);
    case "borrow":
      return borrowCluster(name, {
        ...args,
        clusterStack: config.clusterStack,
        requireOidcProvider: config.requireOidcProvider,
      });
    case "adopt":
      return adoptCluster(name, {
        ...args,
        clusterName: config.clusterName,
        requireOidcProvider: config.requireOidcProvider,
      });
  }
}

export interface ClusterArgs extends Omit<TargetClusterArgs, "config" | "network"> {
  /** The created cluster's version, nodes and users. */
  readonly config: Extract<ClusterConfig, { mode: "create" }>;
  /** Where the cluster lives and who reaches its API endpoint. */
  readonly network: ClusterNetwork | undefined;
}

/**
 * A new EKS cluster, its nodes (EKS Auto Mode, or a managed node group with the networking add-ons), its access
 * entries and, when it lists developers, their access.
 */
export class Cluster extends pulumi.ComponentResource implements TargetCluster {
  readonly mode = "create";
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly nodeArchitectures: pulumi.Output<string[]>;
  readonly nodeProvisioning: NodeProvisioning;
  readonly developerGrant = undefined;
  readonly addonsAfter: readonly pulumi.Resource[];
  readonly kubernetesVersion: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CLUSTER_TYPE, name, {}, opts);
    const { config, network } = args;
    if (network === undefined) throw new Error("a created cluster needs its network");
    const clusterName = createdClusterName(args.scope);
    const state = clusterStateOptions(args.lifecycle);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const provisioning = config.nodeProvisioning;
    // auto-mode-with-node-group, the step of a move to Auto Mode, has both: Auto Mode and the node group.
    const autoMode = provisioning !== "node-group";
    const keepsNodeGroup = provisioning !== "auto-mode";
    const boundary = args.permissionsBoundary === undefined ? {} : { permissionsBoundary: args.permissionsBoundary };
    const managedPolicy = (policy: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;
    // The cluster's own role, passed to pulumi-eks so it is named under this stack's prefix (pulumi-eks would
    // auto-name it `<name>-eksRole-role-<random>`, outside what the CI deploy role may manage).
    const clusterRole = new aws.iam.Role(
      `${name}-cluster-role`,
      {
        namePrefix: scopedName(args.scope, "eks-", NAME_LIMITS.iamRolePrefix),
        description: "EKS manages the cluster's control plane with this role",
        assumeRolePolicy: pulumi.jsonStringify(eksAssumeRolePolicy(autoMode)),
        ...boundary,
        tags: args.tags,
      },
      { parent: this },
    );
    const clusterPolicies = Object.entries(CLUSTER_MANAGED_POLICIES[autoMode ? "auto-mode" : "node-group"]).map(
      ([role, policy]) =>
        new aws.iam.RolePolicyAttachment(
          // The cluster policy keeps its first logical name, so a node-group stack's attachment stays.
          `${name}-cluster-${role}`,
          { role: clusterRole.name, policyArn: managedPolicy(policy) },
          { parent: this },
        ),
    );
    // Our own node roles: pulumi-eks's Auto Mode role (`createNodeRole`) would be auto-named outside this
    // stack's prefix. EKS gives the Auto Mode node role its access entry (type EC2) itself (EKS user guide,
    // "auto-learn-iam"); a managed node group's role gets one (EC2_LINUX) when the group is created. A principal
    // has one access entry, so the two modes use two roles, both present while a stack moves to Auto Mode.
    const nodeRole = (roleName: "auto-node" | "node", mode: "auto-mode" | "node-group", protect: boolean) => {
      const role = new aws.iam.Role(
        `${name}-${roleName}-role`,
        {
          namePrefix: scopedName(args.scope, `${roleName}-`, NAME_LIMITS.iamRolePrefix),
          assumeRolePolicy: pulumi.jsonStringify(ec2AssumeRolePolicy()),
          ...boundary,
          tags: args.tags,
        },
        { parent: this, protect },
      );
      const policies = Object.entries(NODE_MANAGED_POLICIES[mode]).map(
        ([suffix, policy]) =>
          new aws.iam.RolePolicyAttachment(
            `${name}-${roleName}-${suffix}`,
            { role: role.name, policyArn: managedPolicy(policy) },
            { parent: this },
          ),
      );
      return { role, policies };
    };
    // The provider replaces the whole cluster when computeConfig.nodeRoleArn changes (ForceNew in
    // hashicorp/terraform-provider-aws internal/service/eks/cluster.go), so on a long-lived stack the Auto Mode
    // node role is protected: the engine refuses at preview any change that would replace it.
    const autoNodes = autoMode ? nodeRole("auto-node", "auto-mode", !args.lifecycle.ephemeral) : undefined;
    const groupNodes = keepsNodeGroup ? nodeRole("node", "node-group", false) : undefined;

    const publicAccessCidrs = network.endpointPublicAccessCidrs;
    if (publicAccessCidrs.length === 0) {
      void pulumi.log.warn(
        "the cluster's API endpoint is private (endpointPublicAccessCidrs is empty): pulumi and kubectl must run inside its VPC, or list your CIDRs",
        this,
      );
    }
    const cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: clusterName,
        // Unset, EKS picks its default version at creation and its automatic upgrades are never undone.
        ...(config.kubernetesVersion === undefined ? {} : { version: config.kubernetesVersion }),
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        publicSubnetIds: network.publicSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccessCidrs.length > 0,
        ...(publicAccessCidrs.length > 0 ? { publicAccessCidrs: [...publicAccessCidrs] } : {}),
        serviceRole: clusterRole,
        createOidcProvider: true,
        skipDefaultNodeGroup: true,
        // Auto Mode runs the VPC CNI, kube-proxy, CoreDNS and the Pod Identity agent on its nodes itself: none
        // is installed as an add-on (EKS user guide, "auto-enable-existing"). With node groups the add-ons are
        // this program's, at versions later runs keep (infra/addons.ts): pulumi-eks would install vpc-cni and
        // kube-proxy at the newest version on every run. pulumi-eks v4.3.0 installs CoreDNS by default under
        // Auto Mode (nodejs/eks/cluster/cluster.ts), so it is turned off explicitly.
        useDefaultVpcCni: true,
        kubeProxyAddonOptions: { enabled: false },
        corednsAddonOptions: { enabled: false },
        ...(autoMode
          ? {
              autoMode: {
                enabled: true,
                createNodeRole: false,
                computeConfig: { nodeRoleArn: autoNodes!.role.arn, nodePools: [...AUTO_MODE_NODE_POOLS] },
              },
            }
          : {}),
        authenticationMode: eks.AuthenticationMode.Api,
        // The SDK types this map as a plain object; pulumi-eks is a remote component, whose inputs may be
        // Outputs like any other's, so the entries wait for the creator check (cluster-access.ts).
        accessEntries: partition.apply((partitionName) =>
          checkedAccessEntries(
            clusterName,
            accessEntries(
              partitionName,
              config,
              developerAccessEntries(
                developerAccessNames(args.scope.project),
                config.developers,
                config.developerCleanupPrincipalArn,
              ),
            ),
            { parent: this },
          ),
        ) as unknown as Record<string, eks.types.input.AccessEntryArgs>,
        // Extended support is billed at a higher control-plane rate; stay on standard support and upgrade.
        upgradePolicy: { supportType: "STANDARD" },
        deletionProtection: state.deletionProtection,
        tags: args.tags,
      },
      // The transforms reach the cluster and OIDC provider pulumi-eks creates inside this component.
      {
        parent: this,
        dependsOn: [...clusterPolicies, ...(autoNodes?.policies ?? [])],
        transforms: state.transforms,
      },
    );

    this.kubernetesVersion =
      config.kubernetesVersion === undefined
        ? cluster.eksCluster.apply((created) => created.version)
        : pulumi.output(config.kubernetesVersion);
    const architecture = platformArchitecture(args.imagePlatform);
    this.clusterName = pulumi.output(clusterName);
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.nodeProvisioning = provisioning;
    const group =
      groupNodes === undefined
        ? undefined
        : this.nodeGroup(name, {
            args,
            cluster,
            nodeRole: groupNodes.role,
            nodePolicies: groupNodes.policies,
            architecture,
          });
    const nodes = autoMode
      ? {
          architectures: [...new Set<string>([...GENERAL_PURPOSE_ARCHITECTURES, architecture])].sort(),
          source:
            group === undefined ? "EKS Auto Mode's NodePools" : "EKS Auto Mode's NodePools and the managed node group",
          after: [cluster, ...(group?.after ?? [])] as pulumi.Resource[],
        }
      : group!;
    this.nodeArchitectures = pulumi.output(nodes.architectures);
    this.provider = kubernetesProvider(
      name,
      {
        kubeconfig: this.kubeconfig,
        nodeArchitectures: this.nodeArchitectures,
        architectureSource: nodes.source,
        imagePlatform: args.imagePlatform,
      },
      { parent: this, dependsOn: nodes.after },
    );
    if (autoMode && !(GENERAL_PURPOSE_ARCHITECTURES as readonly string[]).includes(architecture)) {
      autoModeNodePool(
        `${name}-${architecture}-nodes`,
        { architecture, clusterName },
        { parent: this, provider: this.provider },
      );
    }

    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcProviderUrl = cluster.oidcProviderUrl;
    this.addonsAfter = [this];

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcProviderUrl: this.oidcProviderUrl,
      nodeArchitectures: this.nodeArchitectures,
    });
  }

  /**
   * node-group mode: one managed node group of `nodeDesiredCount` nodes behind a launch template that keeps
   * IMDS from pods, and the networking add-ons (vpc-cni, kube-proxy, CoreDNS) at pinned versions. Returns the
   * nodes' architecture and what the Kubernetes provider waits for.
   */
  private nodeGroup(
    name: string,
    {
      args,
      cluster,
      nodeRole,
      nodePolicies,
      architecture,
    }: {
      readonly args: ClusterArgs;
      readonly cluster: eks.Cluster;
      readonly nodeRole: aws.iam.Role;
      readonly nodePolicies: readonly pulumi.Resource[];
      readonly architecture: "amd64" | "arm64";
    },
  ): { architectures: string[]; source: string; after: pulumi.Resource[] } {
    const { config } = args;
    // Pods must get AWS credentials from their service account only, never from the node's instance role:
    // with IMDSv2 required and a hop limit of 1, IMDS answers the node itself but not a pod behind it.
    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-node-metadata`,
      {
        namePrefix: scopedName(args.scope, "nodes-", NAME_LIMITS.launchTemplatePrefix),
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        updateDefaultVersion: true,
        tagSpecifications: [{ resourceType: "instance", tags: args.tags }],
        tags: args.tags,
      },
      { parent: this },
    );

    // Named by prefix: a change that replaces the group (instance type, AMI type, role, subnets) brings the
    // new group up before the old one drains, and the PodDisruptionBudgets hold while it does.
    const nodeGroup = new eks.ManagedNodeGroup(
      `${name}-nodes`,
      {
        cluster,
        nodeGroupNamePrefix: scopedName(args.scope, "nodes-", NAME_LIMITS.eksNodeGroupPrefix),
        nodeRole,
        subnetIds: args.network?.privateSubnetIds,
        ...(config.kubernetesVersion === undefined ? {} : { version: config.kubernetesVersion }),
        amiType: architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
        instanceTypes: [config.nodeInstanceType],
        capacityType: "ON_DEMAND",
        scalingConfig: {
          minSize: config.nodeCount.min,
          desiredSize: config.nodeCount.desired,
          maxSize: config.nodeCount.max,
        },
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        tags: args.tags,
      },
      { parent: this, dependsOn: [...nodePolicies] },
    );

    const addons = (["vpcCni", "kubeProxy", "coredns"] as const).map((addon) =>
      pinnedAddon(
        `${name}-${addon}`,
        {
          addon,
          clusterName: this.clusterName,
          kubernetesVersion: this.kubernetesVersion,
          version: config.addonVersions[addon],
          tags: args.tags,
          // The add-ons run pods on the nodes (CoreDNS cannot schedule without them); the self-managed ones
          // EKS installed at creation serve until then.
          after: [nodeGroup],
        },
        this,
      ),
    );
    return {
      architectures: [architecture],
      source: "the managed node group's AMI type",
      after: [nodeGroup, ...addons],
    };
  }
}

/**
 * An EKS Auto Mode NodePool (Karpenter's `karpenter.sh/v1` NodePool on EKS's `default` NodeClass) for an
 * architecture the built-in general-purpose pool does not launch (it is amd64 only; EKS user guide,
 * "set-builtin-node-pools", "create-node-pool"): the same on-demand C, M and R instances of generation 5 or
 * newer, so an arm64 image's pods get arm64 nodes. Idle or underused nodes are consolidated after a minute,
 * and every node is replaced after at most 14 days (Auto Mode's own ceiling is 21).
 */
export function autoModeNodePool(
  name: string,
  args: { readonly architecture: "amd64" | "arm64"; readonly clusterName: string },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "karpenter.sh/v1",
      kind: "NodePool",
      metadata: { name: `${args.architecture}-general-purpose` },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: "eks.amazonaws.com", kind: "NodeClass", name: "default" },
            requirements: [
              { key: "kubernetes.io/arch", operator: "In", values: [args.architecture] },
              { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
              { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
              { key: "eks.amazonaws.com/instance-category", operator: "In", values: ["c", "m", "r"] },
              { key: "eks.amazonaws.com/instance-generation", operator: "Gt", values: ["4"] },
            ],
            expireAfter: "336h",
          },
        },
        disruption: { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m" },
      },
    },
    opts,
  );
}

export interface BorrowClusterArgs extends Omit<TargetClusterArgs, "config" | "network" | "tags"> {
  /** The create-mode stack to borrow from, `<organization>/<project>/<stack>`: its cluster is named after it. */
  readonly clusterStack: string;
  /** Whether something trusts the cluster's IAM OIDC provider (see AdoptClusterArgs). */
  readonly requireOidcProvider: boolean;
}

/**
 * The cluster of a create-mode stack of this project: found in AWS by the name that stack gave it
 * (`platformClusterName`), reached with a kubeconfig built here, exactly as adopt mode does, and never through
 * that stack's state. A StackReference would need the platform's secrets (its kubeconfig output is one, and
 * with a KMS key per stack the reference cannot even be opened without kms:Decrypt on the platform's key:
 * pulumi/pulumi#11109, #21436). What the platform says to its developers is read from the cluster: the
 * ConfigMap `<project>-developers` in kube-public (infra/developer-access.ts), through the Kubernetes provider
 * `<name>-k8s`. The caller is matched against it (`developerOf`), which fails the preview with a RunError
 * naming the fix when the caller is not a listed developer or the platform lists none.
 */
export function borrowCluster(name: string, args: BorrowClusterArgs): TargetCluster {
  const { clusterStack } = args;
  const reached = reachCluster(
    name,
    { ...args, clusterName: platformClusterName(clusterStack) },
    `an administrator of ${clusterStack} adds "<person>=<this IAM role or user ARN>" to its developers and runs pulumi up there (docs/DEPLOY.md, "Developer stacks")`,
  );
  const names = developerAccessNames(args.scope.project);
  const directoryMap = k8s.core.v1.ConfigMap.get(
    `${name}-developer-directory`,
    `${DIRECTORY_NAMESPACE}/${names.directory}`,
    { provider: reached.provider },
  );
  const directory = directoryMap.data.apply((data) => {
    const text = data?.[DIRECTORY_KEY];
    const read = text === undefined ? undefined : (JSON.parse(text) as DeveloperDirectory);
    if (read === undefined || read.developers.length === 0) {
      throw new pulumi.RunError(
        `${clusterStack} lists no developers (its ConfigMap ${DIRECTORY_NAMESPACE}/${names.directory} names none): an administrator sets its developers and runs pulumi up there`,
      );
    }
    return read;
  });
  const caller = aws.getCallerIdentityOutput({}).arn;
  const developerGrant = pulumi
    .all([directory, caller])
    .apply(([dir, callerArn]) => ({ directory: dir, developer: developerOf(dir, callerArn, clusterStack) }));
  return {
    mode: "borrow",
    ...reached,
    nodeProvisioning: undefined,
    nodeArchitectures: pulumi.output([]),
    developerGrant,
    addonsAfter: [],
    kubernetesVersion: undefined,
  };
}

/**
 * The name of a create-mode stack's cluster (`Cluster`: the stack's scoped name), from the stack's
 * `<organization>/<project>/<stack>` path.
 */
export function platformClusterName(clusterStack: string): string {
  const [, project = "", stack = ""] = clusterStack.split("/");
  return scopedName({ project, stack }, "", NAME_LIMITS.eksCluster);
}

export interface AdoptClusterArgs extends Omit<TargetClusterArgs, "config" | "network" | "tags"> {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /**
   * Whether the cluster must have an IAM OIDC provider (IRSA and KEDA's operator trust it; EKS Pod Identity
   * does not). When false it is not looked up, and oidcProviderArn is "".
   */
  readonly requireOidcProvider: boolean;
}

/**
 * An EKS cluster this project does not manage, looked up by name (`reachCluster`); never changed. Registers
 * only the Kubernetes provider `<name>-k8s`.
 */
export function adoptCluster(name: string, args: AdoptClusterArgs): TargetCluster {
  return {
    mode: "adopt",
    ...reachCluster(name, args, `the administrators of ${args.clusterName} give it an access entry`),
    nodeProvisioning: undefined,
    nodeArchitectures: pulumi.output([]),
    developerGrant: undefined,
    addonsAfter: [],
    kubernetesVersion: undefined,
  };
}

/**
 * An existing EKS cluster, looked up by name (a RunError at preview when it does not exist or reports no
 * OIDC issuer), with its IAM OIDC provider when required, a kubeconfig that runs `aws eks get-token` once the
 * identity running pulumi is known to have an access entry (`requireCallerAccess`; `remedy` says who gives it
 * one), and the Kubernetes provider `<name>-k8s`, gated on the managed node groups' architectures.
 */
function reachCluster(
  name: string,
  args: AdoptClusterArgs,
  remedy: string,
): Pick<TargetCluster, "clusterName" | "kubeconfig" | "oidcProviderArn" | "oidcProviderUrl" | "provider"> {
  const { clusterName } = args;
  const cluster = aws.eks.getClusterOutput({ name: clusterName });
  const oidcProviderUrl = cluster.identities.apply((identities) => {
    const issuer = identities[0]?.oidcs[0]?.issuer;
    if (issuer === undefined || issuer === "") {
      throw new pulumi.RunError(`EKS cluster ${clusterName} reports no OIDC issuer, so IRSA cannot work with it`);
    }
    return issuer;
  });
  const oidcProviderArn = args.requireOidcProvider
    ? aws.iam.getOpenIdConnectProviderOutput({ url: oidcProviderUrl }).arn
    : pulumi.output("");
  // Access entries are the only way in under authentication mode API; with the aws-auth ConfigMap as well,
  // access may come from there, which the look-up cannot see (a warning then).
  const kubeconfig = pulumi.secret(
    requireCallerAccess(
      eksKubeconfig({
        clusterName: cluster.name,
        endpoint: cluster.endpoint,
        certificateAuthorityData: cluster.certificateAuthorities.apply((authorities) => authorities[0]?.data ?? ""),
        region: args.region,
      }),
      { clusterName, remedy },
      cluster.accessConfigs.apply((access) => access[0]?.authenticationMode === "API"),
      {},
    ),
  );
  return {
    clusterName: cluster.name,
    kubeconfig,
    oidcProviderArn,
    oidcProviderUrl,
    provider: kubernetesProvider(
      name,
      {
        kubeconfig,
        nodeArchitectures: managedNodeArchitectures(cluster.name, {}),
        architectureSource: `the managed node groups of ${clusterName}`,
        imagePlatform: args.imagePlatform,
      },
      { aliases: formerlyInClusterComponent(name) },
    ),
  };
}

interface KubernetesProviderArgs {
  readonly kubeconfig: pulumi.Output<string>;
  /** The architectures the image is checked against (undefined or empty: unknown, a warning). */
  readonly nodeArchitectures: pulumi.Output<readonly string[] | undefined>;
  /** Where they came from, for the messages. */
  readonly architectureSource: string;
  readonly imagePlatform: ImagePlatform;
}

/**
 * The Kubernetes provider `<name>-k8s` for the cluster, with server-side apply. Its kubeconfig resolves only
 * once the nodes are known to run the image's platform, so nothing is deployed onto nodes that cannot run it.
 */
function kubernetesProvider(
  name: string,
  args: KubernetesProviderArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.Provider {
  return new k8s.Provider(
    `${name}-k8s`,
    {
      kubeconfig: requireImageArchitecture(
        args.kubeconfig,
        args.nodeArchitectures,
        args.imagePlatform,
        args.architectureSource,
      ),
      enableServerSideApply: true,
      // deleteUnreachable stays unset: a refresh from a network that cannot reach the cluster must fail, not
      // drop the chart, namespaces and workloads from state. When the cluster is known to be gone, an operator
      // sets PULUMI_K8S_DELETE_UNREACHABLE=true for that one destroy (docs/DEPLOY.md, "When the cluster is gone").
    },
    opts,
  );
}

/**
 * Borrowing and adopting used to register the provider under a `Cluster` component named `name`. The alias
 * keeps those stacks' state: the engine takes the aliased provider for the same one, so the Kubernetes
 * objects it manages are not replaced (pulumi/pulumi pull request 6453, "Respect provider aliases while
 * diffing resources").
 */
function formerlyInClusterComponent(name: string): pulumi.Input<pulumi.Alias>[] {
  return [{ parent: pulumi.createUrn(name, CLUSTER_TYPE) }];
}
