/**
 * Components whose children are registered by a provider plugin, not by this program: under mocks (and in
 * the engine's view of the program) each is one resource, but the plugin creates AWS resources and makes
 * invokes with the caller's credentials. Each rule expands a recorded component into those children and
 * invokes, transcribed from the plugin's source at the version this repository installs; a configuration
 * the transcription does not model throws, so a new option cannot slip past the CI roles unjudged.
 */
import type { Environment, RecordedInvoke, RegisteredResource, Need } from "./catalog";
import { arns } from "./catalog";

/** What a component registers and calls inside its plugin. */
export interface Expansion {
  readonly resources: readonly RegisteredResource[];
  readonly invokes: readonly RecordedInvoke[];
  /** Requests the component makes itself (not through a child resource or an invoke). */
  readonly needs: readonly Need[];
}

export interface ComponentRule {
  /** The plugin's package and version the transcription follows (checked against node_modules by the tests). */
  readonly plugin: { readonly npmPackage: string; readonly version: string };
  readonly source: string;
  /** Actions the component requests itself, by grant and phase, for building the roles without a recording. */
  readonly grants: readonly {
    readonly grant: Need["grant"];
    readonly phase: Need["phase"];
    readonly actions: readonly string[];
  }[];
  readonly expand: (r: RegisteredResource, env: Environment, all: readonly RegisteredResource[]) => Expansion;
}

const PULUMI_EKS = { npmPackage: "@pulumi/eks", version: "4.3.0" } as const;
const PULUMI_KUBERNETES = { npmPackage: "@pulumi/kubernetes", version: "4.34.2" } as const;

type Inputs = Readonly<Record<string, unknown>>;
const text = (value: unknown): string => (typeof value === "string" ? value : "");
const object = (value: unknown): Inputs => (typeof value === "object" && value !== null ? (value as Inputs) : {});

/** A child registered inside a component, as the engine would record it. */
function child(type: string, name: string, inputs: Inputs, state: Inputs = {}): RegisteredResource {
  return { type, name, inputs, state: { ...inputs, ...state } };
}

function unsupported(what: string, option: string): never {
  throw new Error(
    `${what}: the transcription of the plugin's source (ci/permissions/components.ts) does not model ${option}; extend it before using the option`,
  );
}

/** The logical name a resource reference ({urn, id}) or a URN string points at. */
function referencedName(value: unknown): string | undefined {
  const urn = typeof value === "string" ? value : text(object(value).urn);
  return urn === "" ? undefined : urn.split("::").at(-1);
}

const AMAZON_EKS_CLUSTER_POLICY = "AmazonEKSClusterPolicy";

/**
 * pulumi-eks `Cluster` (pulumi/pulumi-eks v4.3.0, nodejs/eks/cluster/cluster.ts `createCore` and
 * `createCluster`; nodejs/eks/servicerole.ts; nodejs/eks/cluster/authenticationMode.ts `createAccessEntries`;
 * nodejs/eks/addons/cni-addon.ts; nodejs/eks/nodes/securitygroup.ts `createNodeGroupSecurityGroup`).
 */
function expandEksCluster(r: RegisteredResource, env: Environment): Expansion {
  const i = r.inputs;
  const n = r.name;
  const what = `eks:index:Cluster ${n}`;
  if (i.skipDefaultNodeGroup !== true) unsupported(what, "the default node group (skipDefaultNodeGroup unset)");
  if (i.fargate !== undefined) unsupported(what, "Fargate");
  const autoMode = object(i.autoMode);
  const autoModeOn = autoMode.enabled === true;
  // Auto Mode with createNodeRole (the default) registers a ServiceRole of its own, auto-named.
  if (autoModeOn && autoMode.createNodeRole !== false) unsupported(what, "EKS Auto Mode's own node role");
  if (i.createInstanceRole === true) unsupported(what, "createInstanceRole");
  if (i.authenticationMode !== "API") unsupported(what, `authenticationMode ${String(i.authenticationMode)}`);
  if (i.encryptionConfigKeyArn !== undefined) unsupported(what, "encryptionConfigKeyArn");
  if (i.storageClasses !== undefined) unsupported(what, "storageClasses");

  const tags = object(i.tags);
  const resources: RegisteredResource[] = [];
  // cluster.ts createCore: the partition for ARNs; the default VPC when no vpcId is given.
  const invokes: RecordedInvoke[] = [{ token: "aws:index/getPartition:getPartition", inputs: {} }];
  if (text(i.vpcId) === "") {
    invokes.push({ token: "aws:ec2/getVpc:getVpc", inputs: { default: true } });
    invokes.push({ token: "aws:ec2/getSubnets:getSubnets", inputs: {} });
  }

  // The cluster role: the one passed as serviceRole, or a ServiceRole component auto-named `${name}-eksRole-role-<random>`.
  let roleArn: string;
  if (i.serviceRole !== undefined) {
    roleArn = `ref:${referencedName(i.serviceRole) ?? ""}`;
  } else {
    const role = child("aws:iam/role:Role", `${n}-eksRole-role`, { tags });
    resources.push(role);
    roleArn = arns.role(env, `${role.name}-1a2b3c4`);
    resources.push(
      child("aws:iam/rolePolicyAttachment:RolePolicyAttachment", `${n}-eksRole-4b490823`, {
        role: roleArn,
        policyArn: `arn:${env.partition}:iam::aws:policy/${AMAZON_EKS_CLUSTER_POLICY}`,
      }),
    );
  }

  // cluster.ts: `skipDefaultSecurityGroups ?? autoMode.enabled`.
  if ((i.skipDefaultSecurityGroups ?? autoModeOn) !== true) {
    // The control plane's extra security group with its egress rule, and the node security group with its rules.
    resources.push(child("aws:ec2/securityGroup:SecurityGroup", `${n}-eksClusterSecurityGroup`, { tags }));
    resources.push(child("aws:ec2/securityGroupRule:SecurityGroupRule", `${n}-eksClusterInternetEgressRule`, {}));
    resources.push(child("aws:ec2/securityGroup:SecurityGroup", `${n}-nodeSecurityGroup`, { tags }));
    for (const rule of [
      "eksNodeIngressRule",
      "eksNodeClusterIngressRule",
      "eksExtApiServerClusterIngressRule",
      "eksNodeInternetEgressRule",
      "eksClusterIngressRule",
    ])
      resources.push(child("aws:ec2/securityGroupRule:SecurityGroupRule", `${n}-${rule}`, {}));
  }

  const clusterName = text(i.name) || `${n}-eksCluster-1a2b3c4`;
  resources.push(
    child("aws:eks/cluster:Cluster", `${n}-eksCluster`, {
      name: clusterName,
      roleArn,
      // Auto Mode: the node role EKS assigns to the instances it launches (computeConfig.nodeRoleArn).
      ...(autoModeOn
        ? { computeConfig: { enabled: true, nodeRoleArn: object(autoMode.computeConfig).nodeRoleArn } }
        : {}),
      tags: { Name: `${n}-eksCluster`, ...tags },
    }),
  );

  const addon = (addonName: string, version: unknown) => {
    if (text(version) === "")
      invokes.push({ token: "aws:eks/getAddonVersion:getAddonVersion", inputs: { addonName, mostRecent: true } });
    resources.push(child("aws:eks/addon:Addon", `${n}-${addonName}`, { clusterName, addonName, tags }));
  };
  // cluster.ts: kube-proxy and vpc-cni default to on unless Auto Mode is; CoreDNS is installed under Auto Mode
  // (with the default node group skipped) unless turned off, and otherwise only when asked for.
  const kubeProxy = object(i.kubeProxyAddonOptions);
  if ((kubeProxy.enabled ?? !autoModeOn) !== false) addon("kube-proxy", kubeProxy.version);
  if ((i.useDefaultVpcCni === undefined ? autoModeOn : i.useDefaultVpcCni) !== true)
    addon("vpc-cni", object(i.vpcCniOptions).addonVersion);
  const coredns = object(i.corednsAddonOptions);
  if (
    coredns.enabled === true ||
    coredns.configurationValues !== undefined ||
    (autoModeOn && coredns.enabled !== false)
  )
    addon("coredns", coredns.version);

  for (const [key, entry] of Object.entries(object(i.accessEntries))) {
    const principalArn = text(object(entry).principalArn);
    resources.push(child("aws:eks/accessEntry:AccessEntry", `${n}-${key}`, { clusterName, principalArn }));
    for (const [association, policy] of Object.entries(object(object(entry).accessPolicies))) {
      resources.push(
        child("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", `${n}-${key}-${association}`, {
          clusterName,
          principalArn,
          policyArn: text(object(policy).policyArn),
        }),
      );
    }
  }

  if (i.createOidcProvider === true) {
    invokes.push({ token: "aws:index/getRegion:getRegion", inputs: {} });
    resources.push(
      child("aws:iam/openIdConnectProvider:OpenIdConnectProvider", `${n}-oidcProvider`, {
        url: text(r.state.oidcProviderUrl) || `https://oidc.eks.${env.region}.amazonaws.com/id/UNKNOWN`,
      }),
    );
  }
  return { resources, invokes, needs: [] };
}

/** pulumi-eks `ManagedNodeGroup` (pulumi/pulumi-eks v4.3.0, nodejs/eks/nodes/nodegroup.ts `createManagedNodeGroup`). */
function expandManagedNodeGroup(
  r: RegisteredResource,
  _env: Environment,
  all: readonly RegisteredResource[],
): Expansion {
  const i = r.inputs;
  const what = `eks:index:ManagedNodeGroup ${r.name}`;
  // Options that make the plugin create its own launch template (and look up an AMI) are not modelled.
  for (const option of [
    "kubeletExtraArgs",
    "bootstrapExtraArgs",
    "bottlerocketSettings",
    "nodeadmExtraOptions",
    "userData",
    "amiId",
    "enableIMDSv2",
    "diskSize",
    "enableEfaSupport",
    "gpu",
  ]) {
    if (i[option] !== undefined) unsupported(what, option);
  }
  if (i.launchTemplate === undefined) unsupported(what, "the node group without a launch template of the program's");
  const clusterComponent = all.find(
    (candidate) => candidate.type === "eks:index:Cluster" && candidate.name === referencedName(i.cluster),
  );
  const clusterName = text(i.clusterName) || text(clusterComponent?.inputs.name);
  const nodeRole = referencedName(i.nodeRole);
  return {
    resources: [
      child("aws:eks/nodeGroup:NodeGroup", r.name, {
        clusterName,
        nodeGroupNamePrefix: i.nodeGroupNamePrefix,
        nodeGroupName: i.nodeGroupName,
        nodeRoleArn: nodeRole === undefined ? text(i.nodeRoleArn) : `ref:${nodeRole}`,
        tags: i.tags,
      }),
    ],
    invokes: [],
    needs: [],
  };
}

/** An OCI chart reference in this account's ECR: oci://<account>.dkr.ecr.<region>.amazonaws.com/<repository>/<chart>. */
const ECR_OCI =
  /^oci:\/\/(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/(.+?)(?::[^/@]+)?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * pulumi-kubernetes `helm.v4.Chart` (pulumi/pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go, and
 * provider/pkg/helm/tool.go `NewRegistryClient`): the chart is pulled while the component renders, in every
 * preview and update. From an ECR repository that is `ecr:BatchGetImage` (the manifest) and
 * `ecr:GetDownloadUrlForLayer` (the chart's layer), with the registry password the program passes
 * (Amazon ECR user guide, "Pushing a Helm chart", and "Amazon ECR repository policies" for the pull actions).
 * A chart from any other repository needs no AWS permission.
 */
function expandChart(r: RegisteredResource, env: Environment): Expansion {
  const match = ECR_OCI.exec(text(r.inputs.chart));
  if (match === null) return { resources: [], invokes: [], needs: [] };
  const [, , , repository = ""] = match;
  const resource = arns.repository(env, repository);
  const needs: Need[] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"].map((action) => ({
    phase: "invoke",
    grant: "chartMirror",
    action,
    resource,
    context: {},
    by: `${r.type} ${r.name}`,
  }));
  return { resources: [], invokes: [], needs };
}

export const COMPONENT_RULES: Readonly<Record<string, ComponentRule>> = {
  "eks:index:Cluster": {
    plugin: PULUMI_EKS,
    source: "pulumi/pulumi-eks v4.3.0 nodejs/eks/cluster/cluster.ts",
    grants: [],
    expand: expandEksCluster,
  },
  "eks:index:ManagedNodeGroup": {
    plugin: PULUMI_EKS,
    source: "pulumi/pulumi-eks v4.3.0 nodejs/eks/nodes/nodegroup.ts",
    grants: [],
    expand: expandManagedNodeGroup,
  },
  "kubernetes:helm.sh/v4:Chart": {
    plugin: PULUMI_KUBERNETES,
    source: "pulumi/pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go, provider/pkg/helm/tool.go",
    grants: [{ grant: "chartMirror", phase: "invoke", actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }],
    expand: (r, env) => expandChart(r, env),
  },
};
