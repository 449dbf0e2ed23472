/**
 * The Kubernetes cluster this stack deploys into (`TargetCluster`), got in one of three ways, as the
 * stack's `clusterMode` says (infra/config/cluster.ts validates it):
 * - create: the `Cluster` component, a new EKS cluster in its own network (infra/network.ts) with an IAM
 *           OIDC provider, access entries (infra/cluster-access.ts) and a managed node group whose nodes do
 *           not hand their instance role to pods (IMDSv2 required, hop limit 1: a pod's request cannot
 *           reach IMDS); on a long-lived stack the cluster and its OIDC provider are protected and the
 *           cluster has EKS deletion protection (infra/lifecycle.ts); the namespaces of the developer stacks
 *           that may borrow it are made after KEDA (infra/developer-namespaces.ts);
 * - borrow: `borrowCluster`, the cluster of a create-mode stack of this project, read through a
 *           StackReference, deploying into the namespace that stack made for this one;
 * - adopt:  `adoptCluster`, an EKS cluster looked up by name, with its IAM OIDC provider; never changed.
 * Every mode yields the same things: the cluster's name, a kubeconfig, the OIDC provider that IRSA trusts,
 * and a Kubernetes provider for the workload, which waits until the nodes are known to run the image's
 * architecture (infra/node-architecture.ts). `targetCluster` picks the way.
 *
 * Names: the cluster's is fixed (borrowing stacks and kubeconfigs refer to it); the node group, its launch
 * template and the node role are named by prefix, so that a change that replaces one creates the new one
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
} from "./config";
import { ec2AssumeRolePolicy, eksAssumeRolePolicy } from "./iam-documents";
import { eksKubeconfig } from "./kubeconfig";
import { clusterStateOptions } from "./lifecycle";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";
import type { ClusterNetwork } from "./network";
import { managedNodeArchitectures, requireImageArchitecture } from "./node-architecture";

/**
 * The stack outputs a create-mode stack exports for the stacks that borrow its cluster (index.ts exports
 * them under exactly these names; `borrowCluster` reads them back).
 */
export const SHARED_CLUSTER_OUTPUTS = {
  clusterName: "clusterName",
  kubeconfig: "kubeconfig",
  oidcProviderArn: "oidcProviderArn",
  oidcProviderUrl: "oidcProviderUrl",
  /** The nodes' CPU architectures, e.g. ["amd64"]: a borrowing stack checks its imagePlatform against them. */
  nodeArchitectures: "nodeArchitectures",
  /** Developer stack name -> the namespace made for it (developerStacks). */
  developerNamespaces: "developerNamespaces",
} as const;

/** The AWS managed policy EKS's cluster role needs (EKS user guide, "cluster-iam-role"). */
const CLUSTER_MANAGED_POLICY = "AmazonEKSClusterPolicy";

/** AWS-managed policies the managed nodes need: join the cluster, run the VPC CNI, pull images from ECR. */
const NODE_MANAGED_POLICIES = {
  worker: "AmazonEKSWorkerNodePolicy",
  cni: "AmazonEKS_CNI_Policy",
  ecr: "AmazonEC2ContainerRegistryPullOnly",
} as const;

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
  /** The nodes' CPU architectures, exported for borrowers (create mode; empty otherwise). */
  readonly nodeArchitectures: pulumi.Output<string[]>;
  /** borrow mode: the namespace the platform stack made for this stack; undefined otherwise. */
  readonly borrowedNamespace: pulumi.Output<string> | undefined;
  /** borrow mode: the platform stack whose cluster this is, for its other outputs (KEDA's); undefined otherwise. */
  readonly platformStack: pulumi.StackReference | undefined;
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
 * resources registered to reach the cluster (`<name>-shared`, `<name>-k8s`). `opts` are the created cluster's
 * (a `dependsOn` holds it back until a check passes); the other modes register nothing to hold back.
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
      return borrowCluster(name, { ...args, clusterStack: config.clusterStack });
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

/** A new EKS cluster, its managed nodes and its access entries. */
export class Cluster extends pulumi.ComponentResource implements TargetCluster {
  readonly mode = "create";
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly nodeArchitectures: pulumi.Output<string[]>;
  readonly borrowedNamespace = undefined;
  readonly platformStack = undefined;
  readonly addonsAfter: readonly pulumi.Resource[];
  /** This component's name, which named the developer namespaces it once had as children. */
  private readonly componentName: string;
  readonly kubernetesVersion: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CLUSTER_TYPE, name, {}, opts);
    this.componentName = name;
    const { config, network } = args;
    if (network === undefined) throw new Error("a created cluster needs its network");
    const clusterName = createdClusterName(args.scope);
    const state = clusterStateOptions(args.lifecycle);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const boundary = args.permissionsBoundary === undefined ? {} : { permissionsBoundary: args.permissionsBoundary };
    // The cluster's own role, passed to pulumi-eks so it is named under this stack's prefix (pulumi-eks would
    // auto-name it `<name>-eksRole-role-<random>`, outside what the CI deploy role may manage).
    const clusterRole = new aws.iam.Role(
      `${name}-cluster-role`,
      {
        namePrefix: scopedName(args.scope, "eks-", NAME_LIMITS.iamRolePrefix),
        description: "EKS manages the cluster's control plane with this role",
        assumeRolePolicy: pulumi.jsonStringify(eksAssumeRolePolicy()),
        ...boundary,
        tags: args.tags,
      },
      { parent: this },
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      {
        role: clusterRole.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${CLUSTER_MANAGED_POLICY}`,
      },
      { parent: this },
    );
    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        namePrefix: scopedName(args.scope, "node-", NAME_LIMITS.iamRolePrefix),
        assumeRolePolicy: pulumi.jsonStringify(ec2AssumeRolePolicy()),
        ...boundary,
        tags: args.tags,
      },
      { parent: this },
    );
    const nodePolicies = Object.entries(NODE_MANAGED_POLICIES).map(
      ([role, policy]) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${role}`,
          { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
          { parent: this },
        ),
    );

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
        // The add-ons are this program's, at versions that later runs keep (infra/addons.ts): pulumi-eks would
        // install vpc-cni and kube-proxy at the newest version on every run.
        useDefaultVpcCni: true,
        kubeProxyAddonOptions: { enabled: false },
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: partition.apply((partitionName) =>
          checkedAccessEntries(
            clusterName,
            accessEntries(partitionName, config, (stack) => developerNamespace(args.scope, stack)),
            { parent: this },
          ),
        ),
        // Extended support is billed at a higher control-plane rate; stay on standard support and upgrade.
        upgradePolicy: { supportType: "STANDARD" },
        deletionProtection: state.deletionProtection,
        tags: args.tags,
      },
      // The transforms reach the cluster and OIDC provider pulumi-eks creates inside this component.
      { parent: this, dependsOn: [clusterPolicy], transforms: state.transforms },
    );

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
    const architecture = platformArchitecture(args.imagePlatform);
    const nodeGroup = new eks.ManagedNodeGroup(
      `${name}-nodes`,
      {
        cluster,
        nodeGroupNamePrefix: scopedName(args.scope, "nodes-", NAME_LIMITS.eksNodeGroupPrefix),
        nodeRole,
        subnetIds: network.privateSubnetIds,
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
      { parent: this, dependsOn: nodePolicies },
    );

    this.kubernetesVersion =
      config.kubernetesVersion === undefined
        ? cluster.eksCluster.apply((created) => created.version)
        : pulumi.output(config.kubernetesVersion);
    const addons = (["vpcCni", "kubeProxy", "coredns"] as const).map((addon) =>
      pinnedAddon(
        `${name}-${addon}`,
        {
          addon,
          clusterName,
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

    this.clusterName = pulumi.output(clusterName);
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcProviderUrl = cluster.oidcProviderUrl;
    this.nodeArchitectures = pulumi.output([architecture]);
    this.provider = kubernetesProvider(
      name,
      {
        kubeconfig: this.kubeconfig,
        nodeArchitectures: this.nodeArchitectures,
        architectureSource: "the managed node group's AMI type",
        imagePlatform: args.imagePlatform,
      },
      { parent: this, dependsOn: [nodeGroup, ...addons] },
    );
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
   * Where a developer stack's namespace was registered before it moved out of this component (a child
   * `<component>-developer-<stack>`): the alias that keeps it the same resource, not a delete and a create.
   */
  developerNamespaceAlias(stack: string): pulumi.Alias {
    return {
      name: `${this.componentName}-developer-${stack}`,
      parent: pulumi.createUrn(this.componentName, CLUSTER_TYPE),
    };
  }
}

export interface BorrowClusterArgs extends Omit<TargetClusterArgs, "config" | "network" | "tags"> {
  /** The create-mode stack to borrow from, `<organization>/<project>/<stack>`. */
  readonly clusterStack: string;
}

/**
 * The cluster of a create-mode stack of this project, read from its outputs (SHARED_CLUSTER_OUTPUTS) through
 * a StackReference `<name>-shared`, and the namespace it made for this stack. The namespace fails the
 * preview with a RunError naming the fix when that stack made none for this one.
 */
export function borrowCluster(name: string, args: BorrowClusterArgs): TargetCluster {
  const { clusterStack, scope } = args;
  // A read, not a managed resource: it had a `Cluster` parent once, and needs no alias to move.
  const shared = new pulumi.StackReference(`${name}-shared`, { name: clusterStack });
  const read = (output: string) => shared.requireOutput(output).apply((value) => String(value));
  const borrowedNamespace = shared
    .getOutput(SHARED_CLUSTER_OUTPUTS.developerNamespaces)
    .apply((namespaces: unknown) => {
      const namespace = (namespaces as Record<string, string> | undefined)?.[scope.stack];
      if (namespace === undefined) {
        throw new pulumi.RunError(
          `${clusterStack} made no namespace for this stack: its admins add "${scope.stack}=<your IAM role or user ARN>" to its developerStacks and run pulumi up there`,
        );
      }
      return namespace;
    });
  const clusterName = read(SHARED_CLUSTER_OUTPUTS.clusterName);
  // The platform stack gives this stack's developer an entry through its developerStacks.
  const kubeconfig = pulumi.secret(
    clusterName.apply((name) =>
      requireCallerAccess(
        read(SHARED_CLUSTER_OUTPUTS.kubeconfig),
        {
          clusterName: name,
          remedy: `the admins of ${clusterStack} add "${scope.stack}=<this IAM role or user ARN>" to its developerStacks and run pulumi up there`,
        },
        true,
        {},
      ),
    ),
  );
  return {
    mode: "borrow",
    clusterName,
    kubeconfig,
    oidcProviderArn: read(SHARED_CLUSTER_OUTPUTS.oidcProviderArn),
    oidcProviderUrl: read(SHARED_CLUSTER_OUTPUTS.oidcProviderUrl),
    provider: kubernetesProvider(
      name,
      {
        kubeconfig,
        nodeArchitectures: shared
          .getOutput(SHARED_CLUSTER_OUTPUTS.nodeArchitectures)
          .apply((value: unknown) => value as string[] | undefined),
        architectureSource: `the nodeArchitectures output of ${clusterStack}`,
        imagePlatform: args.imagePlatform,
      },
      { aliases: formerlyInClusterComponent(name) },
    ),
    nodeArchitectures: pulumi.output([]),
    borrowedNamespace,
    platformStack: shared,
    addonsAfter: [],
    kubernetesVersion: undefined,
  };
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
 * An EKS cluster this project does not manage, looked up by name (a RunError at preview when it does not
 * exist or reports no OIDC issuer), with its IAM OIDC provider when required, and a kubeconfig that runs
 * `aws eks get-token`. Registers only the Kubernetes provider `<name>-k8s`.
 */
export function adoptCluster(name: string, args: AdoptClusterArgs): TargetCluster {
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
      { clusterName, remedy: `the administrators of ${clusterName} give it an access entry` },
      cluster.accessConfigs.apply((access) => access[0]?.authenticationMode === "API"),
      {},
    ),
  );
  return {
    mode: "adopt",
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
    nodeArchitectures: pulumi.output([]),
    borrowedNamespace: undefined,
    platformStack: undefined,
    addonsAfter: [],
    kubernetesVersion: undefined,
  };
}

/** The namespace of a developer stack of this project: the same scoped name that stack gives its own objects. */
export function developerNamespace(scope: NameScope, stack: string): string {
  return scopedName({ project: scope.project, stack }, "", NAME_LIMITS.kubernetesNamespace);
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
