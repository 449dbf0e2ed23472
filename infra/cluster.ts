/**
 * The Kubernetes cluster the consumer runs on, in one of three modes (infra/config/ validates which):
 * - create:   a new EKS cluster in its own network (infra/network.ts) with an IAM OIDC provider, access
 *             entries (infra/cluster-access.ts) and a managed node group whose nodes do not hand their
 *             instance role to pods (IMDSv2 required, hop limit 1: a pod's request cannot reach IMDS); plus
 *             the namespaces of the developer stacks that may borrow it;
 * - stack:    borrow the cluster of a create-mode stack of this project through a StackReference, deploying
 *             into the namespace that stack made for this one;
 * - existing: adopt an EKS cluster by name and look up its IAM OIDC provider.
 * Every mode yields the same things: the cluster's name, a kubeconfig, the OIDC provider that IRSA trusts,
 * and a Kubernetes provider for the workload, which waits until the nodes are known to run the image's
 * architecture (infra/node-architecture.ts).
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
import { platformArchitecture, type ClusterConfig, type ImagePlatform } from "./config";
import { ec2AssumeRolePolicy } from "./iam-documents";
import { eksKubeconfig } from "./kubeconfig";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";
import { POD_SECURITY_LABELS } from "./namespace";
import type { ClusterNetwork } from "./network";
import { managedNodeArchitectures, requireImageArchitecture } from "./node-architecture";

/**
 * The stack outputs a create-mode stack exports for the stacks that borrow its cluster (index.ts exports
 * them under exactly these names; stack mode reads them back).
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

export interface ClusterArgs {
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
  /**
   * Whether an adopted cluster must have an IAM OIDC provider (IRSA needs one; EKS Pod Identity does not).
   * When false and the cluster has none, oidcProviderArn is "". Default true.
   */
  readonly requireOidcProvider?: boolean;
}

export class Cluster extends pulumi.ComponentResource {
  /** EKS cluster name. */
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig (JSON) that authenticates with `aws eks get-token`; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Output<string>;
  /** The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>). */
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** Kubernetes provider for everything deployed into this cluster. */
  readonly provider: k8s.Provider;
  /** The nodes' CPU architectures (create mode; empty otherwise). */
  readonly nodeArchitectures: pulumi.Output<string[]>;
  /** create mode: developer stack -> the namespace made for it; empty in the other modes. */
  readonly developerNamespaces: pulumi.Output<Record<string, string>>;
  /** stack mode: the namespace the platform stack made for this stack; undefined in the other modes. */
  readonly borrowedNamespace: pulumi.Output<string> | undefined;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:cluster:Cluster", name, {}, opts);

    const found =
      args.config.mode === "create"
        ? this.create(name, args, args.config)
        : args.config.mode === "stack"
          ? this.borrow(name, args.config.clusterStack, args.scope)
          : this.adopt(args.config.clusterName, args.region, args.requireOidcProvider ?? true);

    this.clusterName = found.clusterName;
    this.kubeconfig = pulumi.secret(found.kubeconfig);
    this.oidcProviderArn = found.oidcProviderArn;
    this.oidcProviderUrl = found.oidcProviderUrl;
    this.nodeArchitectures = found.nodeArchitectures;
    this.borrowedNamespace = found.borrowedNamespace;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: requireImageArchitecture(
          this.kubeconfig,
          found.checkedArchitectures,
          args.imagePlatform,
          found.architectureSource,
        ),
        enableServerSideApply: true,
        // An ephemeral stack can outlive the cluster it borrowed; let `pulumi destroy` still clean its state.
        deleteUnreachable: true,
      },
      { parent: this, dependsOn: found.ready },
    );
    this.developerNamespaces =
      args.config.mode === "create"
        ? this.developerNamespacesFor(name, args.scope, args.config)
        : pulumi.output<Record<string, string>>({});

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcProviderUrl: this.oidcProviderUrl,
      nodeArchitectures: this.nodeArchitectures,
      developerNamespaces: this.developerNamespaces,
    });
  }

  private create(name: string, args: ClusterArgs, config: Extract<ClusterConfig, { mode: "create" }>): FoundCluster {
    const network = args.network;
    if (network === undefined) throw new Error("create mode needs the cluster's network");
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

    const nodeArchitectures = pulumi.output([architecture]);
    return {
      clusterName: pulumi.output(clusterName),
      kubeconfig: cluster.kubeconfigJson,
      oidcProviderArn: cluster.oidcProviderArn,
      oidcProviderUrl: cluster.oidcProviderUrl,
      nodeArchitectures,
      checkedArchitectures: nodeArchitectures,
      architectureSource: "the managed node group's AMI type",
      borrowedNamespace: undefined,
      ready: [nodeGroup],
    };
  }

  /**
   * One namespace per developer stack, made here because borrowers have no cluster-scoped rights, and
   * labelled for the `restricted` Pod Security Standard, which a namespace editor cannot change.
   */
  private developerNamespacesFor(
    name: string,
    scope: NameScope,
    config: Extract<ClusterConfig, { mode: "create" }>,
  ): pulumi.Output<Record<string, string>> {
    const made = config.developerStacks.map(({ stack }) => {
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

  private borrow(name: string, clusterStack: string, scope: NameScope): FoundCluster {
    const shared = new pulumi.StackReference(`${name}-shared`, { name: clusterStack }, { parent: this });
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
    return {
      clusterName: read(SHARED_CLUSTER_OUTPUTS.clusterName),
      kubeconfig: read(SHARED_CLUSTER_OUTPUTS.kubeconfig),
      oidcProviderArn: read(SHARED_CLUSTER_OUTPUTS.oidcProviderArn),
      oidcProviderUrl: read(SHARED_CLUSTER_OUTPUTS.oidcProviderUrl),
      nodeArchitectures: pulumi.output([]),
      checkedArchitectures: shared
        .getOutput(SHARED_CLUSTER_OUTPUTS.nodeArchitectures)
        .apply((value: unknown) => value as string[] | undefined),
      architectureSource: `the nodeArchitectures output of ${clusterStack}`,
      borrowedNamespace,
      ready: [],
    };
  }

  private adopt(clusterName: string, region: string, requireOidcProvider: boolean): FoundCluster {
    const cluster = aws.eks.getClusterOutput({ name: clusterName }, { parent: this });
    const oidcProviderUrl = cluster.identities.apply((identities) => {
      const issuer = identities[0]?.oidcs[0]?.issuer;
      if (issuer === undefined || issuer === "") {
        throw new pulumi.RunError(`EKS cluster ${clusterName} reports no OIDC issuer, so IRSA cannot work with it`);
      }
      return issuer;
    });
    const oidcProviderArn = requireOidcProvider
      ? aws.iam.getOpenIdConnectProviderOutput({ url: oidcProviderUrl }, { parent: this }).arn
      : pulumi.output("");
    return {
      clusterName: cluster.name,
      kubeconfig: eksKubeconfig({
        clusterName: cluster.name,
        endpoint: cluster.endpoint,
        certificateAuthorityData: cluster.certificateAuthorities.apply((authorities) => authorities[0]?.data ?? ""),
        region,
      }),
      oidcProviderArn,
      oidcProviderUrl,
      nodeArchitectures: pulumi.output([]),
      checkedArchitectures: managedNodeArchitectures(cluster.name, { parent: this }),
      architectureSource: `the managed node groups of ${clusterName}`,
      borrowedNamespace: undefined,
      ready: [],
    };
  }
}

/** The namespace of a developer stack of this project: the same scoped name that stack gives its own objects. */
export function developerNamespace(scope: NameScope, stack: string): string {
  return scopedName({ project: scope.project, stack }, "", NAME_LIMITS.kubernetesNamespace);
}

interface FoundCluster {
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** What this stack exports as its nodes' architectures (create mode only). */
  readonly nodeArchitectures: pulumi.Output<string[]>;
  /** The architectures the image is checked against (undefined: unknown), and where they came from. */
  readonly checkedArchitectures: pulumi.Output<readonly string[] | undefined>;
  readonly architectureSource: string;
  readonly borrowedNamespace: pulumi.Output<string> | undefined;
  /** What must exist before workloads are deployed (the node group of a created cluster). */
  readonly ready: pulumi.Resource[];
}
