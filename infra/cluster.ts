/**
 * The Kubernetes cluster this stack deploys into (`TargetCluster`), got in one of three ways, as the
 * stack's `clusterMode` says (infra/config/cluster.ts validates it):
 * - create: the `Cluster` component, a new EKS cluster in its own network (infra/network.ts) with an IAM
 *           OIDC provider, access entries (infra/cluster-access.ts) and a managed node group whose nodes do
 *           not hand their instance role to pods (IMDSv2 required, hop limit 1: a pod's request cannot
 *           reach IMDS); plus the namespaces of the developer stacks that may borrow it;
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
import { accessEntries, checkedAccessEntries } from "./cluster-access";
import { platformArchitecture, type ClusterConfig, type ClusterMode, type ImagePlatform } from "./config";
import { ec2AssumeRolePolicy } from "./iam-documents";
import { eksKubeconfig } from "./kubeconfig";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";
import { POD_SECURITY_LABELS } from "./namespace";
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
  /** Developer stack -> the namespace made for it (create mode; empty otherwise). */
  readonly developerNamespaces: pulumi.Output<Record<string, string>>;
  /** borrow mode: the namespace the platform stack made for this stack; undefined otherwise. */
  readonly borrowedNamespace: pulumi.Output<string> | undefined;
  /** borrow mode: the platform stack whose cluster this is, for its other outputs (KEDA's); undefined otherwise. */
  readonly platformStack: pulumi.StackReference | undefined;
  /** What a cluster add-on installed by this stack waits for: the created cluster with its nodes; none otherwise. */
  readonly addonsAfter: readonly pulumi.Resource[];
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
}

/**
 * The cluster this stack deploys into: created (`Cluster`), borrowed (`borrowCluster`) or adopted
 * (`adoptCluster`), as `args.config.mode` says. `name` names the component or, for the others, the
 * resources registered to reach the cluster (`<name>-shared`, `<name>-k8s`).
 */
export function targetCluster(name: string, args: TargetClusterArgs): TargetCluster {
  const config = args.config;
  switch (config.mode) {
    case "create":
      return new Cluster(name, { ...args, config });
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

/** A new EKS cluster, its managed nodes, its access entries and the developer stacks' namespaces. */
export class Cluster extends pulumi.ComponentResource implements TargetCluster {
  readonly mode = "create";
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly nodeArchitectures: pulumi.Output<string[]>;
  readonly developerNamespaces: pulumi.Output<Record<string, string>>;
  readonly borrowedNamespace = undefined;
  readonly platformStack = undefined;
  readonly addonsAfter: readonly pulumi.Resource[];

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CLUSTER_TYPE, name, {}, opts);
    const { config, network } = args;
    if (network === undefined) throw new Error("a created cluster needs its network");
    const clusterName = scopedName(args.scope, "", NAME_LIMITS.eksCluster);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        namePrefix: scopedName(args.scope, "node-", NAME_LIMITS.iamRolePrefix),
        assumeRolePolicy: pulumi.jsonStringify(ec2AssumeRolePolicy()),
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
        createOidcProvider: true,
        skipDefaultNodeGroup: true,
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: partition.apply((partitionName) =>
          checkedAccessEntries(
            clusterName,
            accessEntries(partitionName, config.adminPrincipalArns, config.developerStacks, (stack) =>
              developerNamespace(args.scope, stack),
            ),
            { parent: this },
          ),
        ),
        // Extended support is billed at a higher control-plane rate; stay on standard support and upgrade.
        upgradePolicy: { supportType: "STANDARD" },
        tags: args.tags,
      },
      { parent: this },
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
      { parent: this, dependsOn: [nodeGroup] },
    );
    this.developerNamespaces = this.createDeveloperNamespaces(name, args.scope, config.developerStacks);
    this.addonsAfter = [this];

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcProviderUrl: this.oidcProviderUrl,
      nodeArchitectures: this.nodeArchitectures,
      developerNamespaces: this.developerNamespaces,
    });
  }

  /**
   * One namespace per developer stack, made here because borrowers have no cluster-scoped rights, and
   * labelled for the `restricted` Pod Security Standard, which a namespace editor cannot change.
   */
  private createDeveloperNamespaces(
    name: string,
    scope: NameScope,
    developerStacks: readonly { readonly stack: string }[],
  ): pulumi.Output<Record<string, string>> {
    const made = developerStacks.map(({ stack }) => {
      const namespace = new k8s.core.v1.Namespace(
        `${name}-developer-${stack}`,
        {
          metadata: {
            name: developerNamespace(scope, stack),
            labels: { "app.kubernetes.io/managed-by": "pulumi", ...POD_SECURITY_LABELS },
          },
        },
        { parent: this, provider: this.provider },
      );
      return namespace.metadata.name.apply((namespaceName) => [stack, namespaceName] as const);
    });
    return pulumi.all(made).apply((pairs) => Object.fromEntries(pairs));
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
  const kubeconfig = pulumi.secret(read(SHARED_CLUSTER_OUTPUTS.kubeconfig));
  return {
    mode: "borrow",
    clusterName: read(SHARED_CLUSTER_OUTPUTS.clusterName),
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
    developerNamespaces: pulumi.output<Record<string, string>>({}),
    borrowedNamespace,
    platformStack: shared,
    addonsAfter: [],
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
  const kubeconfig = pulumi.secret(
    eksKubeconfig({
      clusterName: cluster.name,
      endpoint: cluster.endpoint,
      certificateAuthorityData: cluster.certificateAuthorities.apply((authorities) => authorities[0]?.data ?? ""),
      region: args.region,
    }),
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
    developerNamespaces: pulumi.output<Record<string, string>>({}),
    borrowedNamespace: undefined,
    platformStack: undefined,
    addonsAfter: [],
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
      // An ephemeral stack can outlive the cluster it borrowed; let `pulumi destroy` still clean its state.
      deleteUnreachable: true,
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
