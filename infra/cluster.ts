/**
 * The Kubernetes cluster the consumer runs on, in one of three modes (infra/config/cluster.ts validates which):
 * - create:   a new EKS cluster with an IAM OIDC provider and a managed node group whose nodes do not hand
 *             their instance role to pods (IMDSv2 required, hop limit 1: a pod's request cannot reach IMDS);
 * - stack:    borrow the cluster of a create-mode stack of this project through a StackReference;
 * - existing: adopt an EKS cluster by name and look up its IAM OIDC provider.
 * Every mode yields the same things: the cluster's name, a kubeconfig, the OIDC provider that IRSA trusts,
 * and a Kubernetes provider for the workload.
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { platformArchitecture, type ClusterConfig, type ImagePlatform } from "./config";
import { ec2AssumeRolePolicy } from "./iam-documents";
import { eksKubeconfig } from "./kubeconfig";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/**
 * The stack outputs a create-mode stack exports for the stacks that borrow its cluster (index.ts exports
 * them under exactly these names; stack mode reads them back).
 */
export const SHARED_CLUSTER_OUTPUTS = {
  clusterName: "clusterName",
  kubeconfig: "kubeconfig",
  oidcProviderArn: "oidcProviderArn",
  oidcProviderUrl: "oidcProviderUrl",
} as const;

/** AWS-managed policies the managed nodes need: join the cluster, run the VPC CNI, pull images from ECR. */
const NODE_MANAGED_POLICIES = {
  worker: "AmazonEKSWorkerNodePolicy",
  cni: "AmazonEKS_CNI_Policy",
  ecr: "AmazonEC2ContainerRegistryPullOnly",
} as const;

/** Grants the principals in `clusterAdminPrincipalArns` cluster-wide admin through EKS access entries. */
const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

export interface ClusterArgs {
  /** Which cluster, validated by infra/config/cluster.ts. */
  readonly config: ClusterConfig;
  /** Project and stack, for physical names. */
  readonly scope: NameScope;
  /** AWS region of the stack. */
  readonly region: string;
  /** Platform of the consumer image; create mode picks the nodes' AMI architecture from it. */
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

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:cluster:Cluster", name, {}, opts);

    const found =
      args.config.mode === "create"
        ? this.create(name, args, args.config)
        : args.config.mode === "stack"
          ? this.borrow(name, args.config.clusterStack)
          : this.adopt(args.config.clusterName, args.region, args.requireOidcProvider ?? true);

    this.clusterName = found.clusterName;
    this.kubeconfig = pulumi.secret(found.kubeconfig);
    this.oidcProviderArn = found.oidcProviderArn;
    this.oidcProviderUrl = found.oidcProviderUrl;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        enableServerSideApply: true,
        // An ephemeral stack can outlive the cluster it borrowed; let `pulumi destroy` still clean its state.
        deleteUnreachable: true,
      },
      { parent: this, dependsOn: found.ready },
    );

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcProviderUrl: this.oidcProviderUrl,
    });
  }

  private create(name: string, args: ClusterArgs, config: Extract<ClusterConfig, { mode: "create" }>): FoundCluster {
    const clusterName = scopedName(args.scope, "", NAME_LIMITS.eksCluster);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        name: scopedName(args.scope, "node", NAME_LIMITS.iamRole),
        assumeRolePolicy: pulumi.jsonStringify(ec2AssumeRolePolicy()),
        tags: args.tags,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    const nodePolicies = Object.entries(NODE_MANAGED_POLICIES).map(
      ([role, policy]) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${role}`,
          { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
          { parent: this },
        ),
    );

    const cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: clusterName,
        version: config.kubernetesVersion,
        createOidcProvider: true,
        skipDefaultNodeGroup: true,
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: Object.fromEntries(
          config.adminPrincipalArns.map((principalArn) => [
            `admin-${shortHash(principalArn)}`,
            {
              principalArn,
              accessPolicies: { admin: { policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } } },
            },
          ]),
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
        name: scopedName(args.scope, "nodes", NAME_LIMITS.launchTemplate),
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        updateDefaultVersion: true,
        tagSpecifications: [{ resourceType: "instance", tags: args.tags }],
        tags: args.tags,
      },
      { parent: this },
    );

    const nodeGroup = new eks.ManagedNodeGroup(
      `${name}-nodes`,
      {
        cluster,
        nodeGroupName: scopedName(args.scope, "nodes", NAME_LIMITS.eksNodeGroup),
        nodeRole,
        version: config.kubernetesVersion,
        amiType: platformArchitecture(args.imagePlatform) === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
        instanceTypes: [config.nodeInstanceType],
        capacityType: "ON_DEMAND",
        scalingConfig: { minSize: config.nodeCount.min, desiredSize: config.nodeCount.desired, maxSize: config.nodeCount.max },
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        tags: args.tags,
      },
      { parent: this, dependsOn: nodePolicies },
    );

    return {
      clusterName: pulumi.output(clusterName),
      kubeconfig: cluster.kubeconfigJson,
      oidcProviderArn: cluster.oidcProviderArn,
      oidcProviderUrl: cluster.oidcProviderUrl,
      ready: [nodeGroup],
    };
  }

  private borrow(name: string, clusterStack: string): FoundCluster {
    const shared = new pulumi.StackReference(`${name}-shared`, { name: clusterStack }, { parent: this });
    const read = (output: string) => shared.requireOutput(output).apply((value) => String(value));
    return {
      clusterName: read(SHARED_CLUSTER_OUTPUTS.clusterName),
      kubeconfig: read(SHARED_CLUSTER_OUTPUTS.kubeconfig),
      oidcProviderArn: read(SHARED_CLUSTER_OUTPUTS.oidcProviderArn),
      oidcProviderUrl: read(SHARED_CLUSTER_OUTPUTS.oidcProviderUrl),
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
      ready: [],
    };
  }
}

interface FoundCluster {
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** What must exist before workloads are deployed (the node group of a created cluster). */
  readonly ready: pulumi.Resource[];
}

/** A stable key for an access entry, so reordering the list does not replace entries. */
function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}
