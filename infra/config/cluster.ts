/**
 * The cluster concern: where the cluster comes from and what the stack needs of it.
 * - CLUSTER_KEYS: the mode (create, borrow, adopt) and, in create mode, the Kubernetes version, how nodes are
 *   provisioned (EKS Auto Mode, or a managed node group and its nodes) and who may use the cluster. A key of another mode must keep its default (applies-when.ts).
 * - PLATFORM_KEYS: the image's platform, which the nodes must run (checked against created nodes in
 *   cross-checks.ts, against borrowed and adopted ones at preview by infra/node-architecture.ts).
 * - IDENTITY_KEYS: how pods get AWS credentials from the cluster: irsa (IAM Roles for Service Accounts,
 *   through the cluster's IAM OIDC provider) or pod-identity (EKS Pod Identity, through the
 *   eks-pod-identity-agent add-on); infra/identity.ts builds either.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import {
  CLUSTER_MODES,
  FORMER_CLUSTER_MODES,
  IDENTITY_MODES,
  IMAGE_PLATFORMS,
  NODE_PROVISIONING_MODES,
  type ClusterMode,
  type IdentityMode,
  type ImagePlatform,
  type NodeProvisioning,
} from "./keys";
import { NAME_LIMITS, scopedName, slugify } from "../names";
import {
  readDeveloperCleanup,
  readDeveloperQuota,
  readDevelopers,
  type Developer,
  type DeveloperQuota,
} from "./developers";
import { checkEnum, type ConfigInput, type RawStackConfig } from "./parse";

/** The number of managed nodes of a created cluster. */
export interface NodeCount {
  readonly min: number;
  readonly desired: number;
  readonly max: number;
}

/**
 * The pinned versions of a created cluster's EKS add-ons (`<addon>AddonVersion`); an add-on without a pin
 * gets EKS's default for the cluster's Kubernetes version when it is created, and keeps it (infra/addons.ts).
 */
export interface AddonVersions {
  readonly vpcCni: string | undefined;
  readonly kubeProxy: string | undefined;
  readonly coredns: string | undefined;
  readonly podIdentityAgent: string | undefined;
}

/** The IAM roles CI runs pulumi as, each given Kubernetes access by an access entry of the created cluster. */
export interface CiAccess {
  /** `ciDeployRoleArn`: cluster admin. */
  readonly deployRoleArn: string | undefined;
  /** `ciPreviewRoleArn`: view. */
  readonly previewRoleArn: string | undefined;
}

export type ClusterConfig =
  | {
      readonly mode: "create";
      /** Kubernetes minor version to pin, or undefined: EKS's default at creation, EKS's upgrades kept. */
      readonly kubernetesVersion: string | undefined;
      /** `nodeProvisioning`: EKS Auto Mode, or a managed node group of the next two settings; auto-mode when unset. */
      readonly nodeProvisioning: NodeProvisioning;
      /** Whether `nodeProvisioning` is set (not left empty): the state guard asks a stack from before the key to set it. */
      readonly nodeProvisioningSet: boolean;
      /** node-group: the managed nodes' instance type (the key's default under auto-mode, unused). */
      readonly nodeInstanceType: string;
      /** node-group: the managed nodes' number (the keys' defaults under auto-mode, unused). */
      readonly nodeCount: NodeCount;
      readonly adminPrincipalArns: readonly string[];
      /** The people who may run developer stacks on the cluster (developers.ts). */
      readonly developers: readonly Developer[];
      /** What each developer stack's namespace may use. */
      readonly developerQuota: DeveloperQuota;
      /** The cleanup job's role, given its own access entry (developers.ts); undefined when unset. */
      readonly developerCleanupPrincipalArn: string | undefined;
      readonly ci: CiAccess;
      readonly addonVersions: AddonVersions;
    }
  | {
      readonly mode: "borrow";
      readonly clusterStack: string;
      /** Hours without a `pulumi up` after which the cleanup job destroys the stack. */
      readonly ttlHours: number;
      /** Whether something trusts the cluster's IAM OIDC provider, which is then looked up (as in adopt mode). */
      readonly requireOidcProvider: boolean;
    }
  | {
      readonly mode: "adopt";
      readonly clusterName: string;
      /**
       * Whether the cluster must have an IAM OIDC provider, which is then looked up: true when something
       * trusts it (identity irsa, or autoscaling keda: KEDA's operator assumes the scaler role by web identity).
       */
      readonly requireOidcProvider: boolean;
    };

export interface IdentityConfig {
  readonly mode: IdentityMode;
  /** `rolePermissionsBoundary`: the managed policy every role this stack creates carries as its boundary. */
  readonly permissionsBoundary: string | undefined;
}

const KUBERNETES_VERSION_PATTERN = /^1\.\d{2}$/;
const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const EKS_CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const STACK_PATH_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)$/;
const IAM_PRINCIPAL_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;
const IAM_ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const IAM_POLICY_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/;
/** An EKS add-on version as `aws eks describe-addon-versions` spells it: v<major>.<minor>.<patch>[-<tag>]-eksbuild.<n>. */
export const ADDON_VERSION_PATTERN = /^v\d+\.\d+\.\d+(-[a-z0-9]+)*-eksbuild\.\d+$/;

/** Whether a string is shaped like an EC2 instance type (family.size, e.g. t3.medium). */
export function isInstanceType(text: string): boolean {
  return INSTANCE_TYPE_PATTERN.test(text);
}

/** The cluster's config, or undefined when any cluster key is bad (each bad key is a problem). */
export function readCluster(input: ConfigInput, problems: SettingProblem[]): ClusterConfig | undefined {
  const renamed = FORMER_CLUSTER_MODES[input.values.clusterMode];
  if (renamed !== undefined) {
    problems.push({
      key: input.key("clusterMode"),
      reason: `"${input.values.clusterMode}" is now called ${renamed}: pulumi config set clusterMode ${renamed}`,
    });
    return undefined;
  }
  const mode = checkEnum(input, "clusterMode", input.values.clusterMode, CLUSTER_MODES, problems);
  if (mode === undefined) return undefined;
  return checkCluster(mode, input, problems);
}

/**
 * The identity mode (undefined, with a problem naming the choices, when it is not one of IDENTITY_MODES) and
 * the permissions boundary of the roles the stack creates.
 */
export function readIdentity(input: ConfigInput, problems: SettingProblem[]): IdentityConfig | undefined {
  const mode = checkEnum(input, "identity", input.values.identity, IDENTITY_MODES, problems);
  const permissionsBoundary = readRoleBoundary(input, problems);
  return mode === undefined ? undefined : { mode, permissionsBoundary };
}

/** `imagePlatform`, or undefined (with a problem) when it is not one of IMAGE_PLATFORMS. */
export function readImagePlatform(input: ConfigInput, problems: SettingProblem[]): ImagePlatform | undefined {
  return checkEnum(input, "imagePlatform", input.values.imagePlatform, IMAGE_PLATFORMS, problems);
}

/** The CPU architecture of an EC2 instance type: Graviton families carry a "g" after the generation (t4g, m7gd, c7gn). */
export function instanceArchitecture(instanceType: string): "amd64" | "arm64" {
  const family = instanceType.split(".")[0] ?? "";
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "amd64";
}

/** The CPU architecture an image platform runs on. */
export function platformArchitecture(platform: ImagePlatform): "amd64" | "arm64" {
  return platform === "linux/arm64" ? "arm64" : "amd64";
}

function checkCluster(mode: ClusterMode, input: ConfigInput, problems: SettingProblem[]): ClusterConfig | undefined {
  const { values, raw, key: fullKey } = input;
  const before = problems.length;
  switch (mode) {
    case "create": {
      const { kubernetesVersion, nodeInstanceType } = values;
      // Empty (the key unset): Auto Mode. The state guard (infra/lifecycle.ts) tells a new stack from one whose
      // cluster predates the key, which has a node group and must say so.
      const nodeProvisioning =
        values.nodeProvisioning === ""
          ? "auto-mode"
          : checkEnum(input, "nodeProvisioning", values.nodeProvisioning, NODE_PROVISIONING_MODES, problems);
      if (nodeProvisioning === "auto-mode" && values.podIdentityAgentAddonVersion !== "") {
        // Auto Mode runs the agent on its nodes itself; an eks-pod-identity-agent add-on is not installed.
        problems.push({
          key: fullKey("podIdentityAgentAddonVersion"),
          reason:
            "applies only when nodeProvisioning is node-group: EKS Auto Mode runs the Pod Identity agent itself; remove it",
        });
      }
      if (kubernetesVersion !== "" && !KUBERNETES_VERSION_PATTERN.test(kubernetesVersion)) {
        problems.push({
          key: fullKey("kubernetesVersion"),
          reason: `must look like 1.34 (or be empty), got "${kubernetesVersion}"`,
        });
      }
      if (!isInstanceType(nodeInstanceType)) {
        problems.push({
          key: fullKey("nodeInstanceType"),
          reason: `must be an EC2 instance type such as t3.medium, got "${nodeInstanceType}"`,
        });
      }
      const nodeCount = { min: values.nodeMinCount, desired: values.nodeDesiredCount, max: values.nodeMaxCount };
      if (nodeCount.min > nodeCount.max) {
        problems.push({
          key: fullKey("nodeMinCount"),
          reason: `${nodeCount.min} is above nodeMaxCount (${nodeCount.max})`,
        });
      }
      if (nodeCount.desired < nodeCount.min || nodeCount.desired > nodeCount.max) {
        problems.push({
          key: fullKey("nodeDesiredCount"),
          reason: `${nodeCount.desired} is outside nodeMinCount..nodeMaxCount (${nodeCount.min}..${nodeCount.max})`,
        });
      }
      const adminPrincipalArns = values.clusterAdminPrincipalArns;
      const badArns = adminPrincipalArns.filter((arn) => !IAM_PRINCIPAL_ARN_PATTERN.test(arn));
      if (badArns.length > 0) {
        problems.push({
          key: fullKey("clusterAdminPrincipalArns"),
          reason: `not IAM role or user ARNs: ${badArns.map((arn) => JSON.stringify(arn)).join(", ")}`,
        });
      }
      const developers = readDevelopers(
        input,
        adminPrincipalArns,
        {
          projectSlug: slugify(raw.project),
          namespace: scopedName({ project: raw.project, stack: raw.stack }, "", NAME_LIMITS.kubernetesNamespace),
        },
        problems,
      );
      const developerCleanupPrincipalArn = readDeveloperCleanup(input, adminPrincipalArns, developers, problems);
      const ci = readCiAccess(input, adminPrincipalArns, developers, problems);
      const addonVersions = readAddonVersions(input, problems);
      if (nodeProvisioning === "auto-mode-with-node-group") checkAutoModeAddons(input, addonVersions, problems);
      if (problems.length > before || nodeProvisioning === undefined) return undefined;
      return {
        mode,
        kubernetesVersion: kubernetesVersion || undefined,
        nodeProvisioning,
        nodeProvisioningSet: values.nodeProvisioning !== "",
        nodeInstanceType,
        nodeCount,
        adminPrincipalArns,
        developers,
        developerQuota: readDeveloperQuota(input),
        developerCleanupPrincipalArn,
        ci,
        addonVersions,
      };
    }
    case "borrow": {
      const clusterStack = values.clusterStack;
      const problem = checkClusterStack(clusterStack, raw);
      if (problem !== undefined) {
        problems.push({ key: fullKey("clusterStack"), reason: problem });
        return undefined;
      }
      return { mode, clusterStack, ttlHours: values.ttlHours, requireOidcProvider: needsOidcProvider(values) };
    }
    case "adopt": {
      const clusterName = values.clusterName;
      if (clusterName === "") {
        problems.push({
          key: fullKey("clusterName"),
          reason: "required when clusterMode is adopt: the name of the EKS cluster to adopt",
        });
        return undefined;
      }
      if (!EKS_CLUSTER_NAME_PATTERN.test(clusterName)) {
        problems.push({ key: fullKey("clusterName"), reason: `"${clusterName}" is not an EKS cluster name` });
        return undefined;
      }
      return {
        mode,
        clusterName,
        requireOidcProvider: needsOidcProvider(values),
      };
    }
  }
}

/** IRSA trusts the cluster's IAM OIDC provider, and so do the roles KEDA's operator assumes by web identity. */
function needsOidcProvider(values: ConfigInput["values"]): boolean {
  return values.identity === "irsa" || values.autoscaling === "keda";
}

/**
 * `ciDeployRoleArn` and `ciPreviewRoleArn`: IAM role ARNs, each given its own access entry. EKS gives a
 * principal one access entry, so neither may be an admin, a developer, or the other.
 */
function readCiAccess(
  input: ConfigInput,
  adminPrincipalArns: readonly string[],
  developers: readonly Developer[],
  problems: SettingProblem[],
): CiAccess {
  const read = (key: "ciDeployRoleArn" | "ciPreviewRoleArn"): string | undefined => {
    const arn = input.values[key];
    if (arn === "") return undefined;
    const reasons: string[] = [];
    if (!IAM_ROLE_ARN_PATTERN.test(arn)) reasons.push(`must be an IAM role ARN, got "${arn}"`);
    if (adminPrincipalArns.includes(arn)) reasons.push(`${arn} is also in clusterAdminPrincipalArns`);
    const developer = developers.find((entry) => entry.principalArn === arn);
    if (developer !== undefined) reasons.push(`${arn} is also developer "${developer.person}" in developers`);
    if (reasons.length === 0) return arn;
    problems.push({ key: input.key(key), reason: `${reasons.join("; ")} (EKS gives a principal one access entry)` });
    return undefined;
  };
  const deployRoleArn = read("ciDeployRoleArn");
  const previewRoleArn = read("ciPreviewRoleArn");
  if (deployRoleArn !== undefined && deployRoleArn === previewRoleArn) {
    problems.push({
      key: input.key("ciPreviewRoleArn"),
      reason: "is ciDeployRoleArn too: previews run as a role of their own, with view access only",
    });
  }
  return { deployRoleArn, previewRoleArn };
}

/** The `<addon>AddonVersion` pins, each an EKS add-on version or empty. */
function readAddonVersions(input: ConfigInput, problems: SettingProblem[]): AddonVersions {
  const read = (
    key: "vpcCniAddonVersion" | "kubeProxyAddonVersion" | "corednsAddonVersion" | "podIdentityAgentAddonVersion",
  ) => {
    const version = input.values[key];
    if (version === "") return undefined;
    if (ADDON_VERSION_PATTERN.test(version)) return version;
    problems.push({
      key: input.key(key),
      reason: `must be an EKS add-on version such as v1.19.2-eksbuild.5 (aws eks describe-addon-versions), got "${version}"`,
    });
    return undefined;
  };
  return {
    vpcCni: read("vpcCniAddonVersion"),
    kubeProxy: read("kubeProxyAddonVersion"),
    coredns: read("corednsAddonVersion"),
    podIdentityAgent: read("podIdentityAgentAddonVersion"),
  };
}

/**
 * The add-on versions EKS requires before Auto Mode is enabled on a cluster that has them (EKS user guide, "Enable
 * EKS Auto Mode on an existing cluster", "Required add-on versions"): older ones schedule their DaemonSets onto
 * Auto Mode's nodes, which run their own networking. kube-proxy's minimum depends on its Kubernetes minor version;
 * releases for 1.32 and later all postdate Auto Mode.
 */
export const AUTO_MODE_ADDON_MINIMUMS = {
  vpcCni: "v1.19.0-eksbuild.1",
  kubeProxy: {
    "1.25": "v1.25.16-eksbuild.5",
    "1.26": "v1.26.15-eksbuild.19",
    "1.27": "v1.27.16-eksbuild.14",
    "1.28": "v1.28.15-eksbuild.4",
    "1.29": "v1.29.10-eksbuild.3",
    "1.30": "v1.30.6-eksbuild.3",
    "1.31": "v1.31.2-eksbuild.3",
  } as Readonly<Record<string, string>>,
} as const;

/** An EKS add-on version (v1.19.0-eksbuild.1) as numbers to compare: major, minor, patch, build. */
function addonVersionParts(version: string): number[] {
  return (/^v(\d+)\.(\d+)\.(\d+)(?:-[a-z0-9]+)*-eksbuild\.(\d+)$/.exec(version) ?? []).slice(1).map(Number);
}

/** Whether `version` is `minimum` or later. */
function atLeast(version: string, minimum: string): boolean {
  const [have, need] = [addonVersionParts(version), addonVersionParts(minimum)];
  for (let i = 0; i < need.length; i++) if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i]!;
  return true;
}

/**
 * auto-mode-with-node-group: Auto Mode is enabled on a cluster whose vpc-cni and kube-proxy add-ons stay, so both
 * must be pinned (the version an unpinned add-on runs is not in the config) at EKS's minimums for Auto Mode.
 */
function checkAutoModeAddons(input: ConfigInput, versions: AddonVersions, problems: SettingProblem[]): void {
  const GUIDE = 'EKS user guide, "Enable EKS Auto Mode on an existing cluster", "Required add-on versions"';
  const vpcCni = versions.vpcCni;
  if (vpcCni === undefined || !atLeast(vpcCni, AUTO_MODE_ADDON_MINIMUMS.vpcCni)) {
    problems.push({
      key: input.key("vpcCniAddonVersion"),
      reason: `${vpcCni === undefined ? "must be pinned" : `${vpcCni} is too old`} while nodeProvisioning is auto-mode-with-node-group: Auto Mode needs vpc-cni ${AUTO_MODE_ADDON_MINIMUMS.vpcCni} or later on the cluster (${GUIDE}); pin the version the cluster runs, upgraded if needed, before enabling it`,
    });
  }
  const kubeProxy = versions.kubeProxy;
  const minor = kubeProxy === undefined ? undefined : addonVersionParts(kubeProxy).slice(0, 2).join(".");
  const minimum = minor === undefined ? undefined : AUTO_MODE_ADDON_MINIMUMS.kubeProxy[minor];
  const tooOld =
    minor !== undefined &&
    (Number(minor.split(".")[1]) < 25 || (minimum !== undefined && !atLeast(kubeProxy!, minimum)));
  if (kubeProxy === undefined || tooOld) {
    problems.push({
      key: input.key("kubeProxyAddonVersion"),
      reason: `${kubeProxy === undefined ? "must be pinned" : `${kubeProxy} is too old`} while nodeProvisioning is auto-mode-with-node-group: Auto Mode needs kube-proxy ${minimum ?? "of a release for Kubernetes 1.25 or later, at that release's minimum"} or later (${GUIDE}); pin the version the cluster runs, upgraded if needed, before enabling it`,
    });
  }
}

/** `rolePermissionsBoundary`: an IAM managed policy ARN, or undefined when empty. */
function readRoleBoundary(input: ConfigInput, problems: SettingProblem[]): string | undefined {
  const arn = input.values.rolePermissionsBoundary;
  if (arn === "") return undefined;
  if (IAM_POLICY_ARN_PATTERN.test(arn)) return arn;
  problems.push({
    key: input.key("rolePermissionsBoundary"),
    reason: `must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>), got "${arn}"`,
  });
  return undefined;
}

function checkClusterStack(clusterStack: string, raw: RawStackConfig): string | undefined {
  if (clusterStack === "") {
    return `required when clusterMode is borrow: the create-mode stack to borrow from, as <organization>/${raw.project}/<stack>`;
  }
  const match = STACK_PATH_PATTERN.exec(clusterStack);
  if (match === null) return `must be <organization>/${raw.project}/<stack>, got "${clusterStack}"`;
  const [, organization, project, stack] = match;
  if (project !== raw.project) return `must name a stack of this project (${raw.project}), got project "${project}"`;
  if (stack === raw.stack && (raw.organization === undefined || organization === raw.organization)) {
    return "names this very stack; a stack cannot borrow its own cluster";
  }
  return undefined;
}
