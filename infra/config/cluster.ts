/**
 * The cluster concern (CLUSTER_KEYS): where the cluster comes from (create, stack, existing) and, in
 * create mode, its Kubernetes version and managed nodes. A key of another mode must keep its default.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { CLUSTER_MODES, CONFIG_KEYS, CONFIG_KEY_NAMES, PROJECT, fullKey, type ClusterMode, type ConfigKeySpec, type KeyValues } from "./keys";
import { checkEnum, type ConfigInput, type RawStackConfig } from "./parse";

/** The number of managed nodes of a created cluster. */
export interface NodeCount {
  readonly min: number;
  readonly desired: number;
  readonly max: number;
}

export type ClusterConfig =
  | {
      readonly mode: "create";
      readonly kubernetesVersion: string;
      readonly nodeInstanceType: string;
      readonly nodeCount: NodeCount;
      readonly adminPrincipalArns: readonly string[];
    }
  | { readonly mode: "stack"; readonly clusterStack: string }
  | { readonly mode: "existing"; readonly clusterName: string };

const KUBERNETES_VERSION_PATTERN = /^1\.\d{2}$/;
const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const EKS_CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const STACK_PATH_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)$/;
const IAM_PRINCIPAL_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** Whether a string is shaped like an EC2 instance type (family.size, e.g. t3.medium). */
export function isInstanceType(text: string): boolean {
  return INSTANCE_TYPE_PATTERN.test(text);
}

/** The cluster's config, or undefined when any cluster key is bad (each bad key is a problem). */
export function readCluster(input: ConfigInput, problems: SettingProblem[]): ClusterConfig | undefined {
  const mode = checkEnum("clusterMode", input.values.clusterMode, CLUSTER_MODES, problems);
  if (mode === undefined) return undefined;
  const cluster = checkCluster(mode, input.values, input.raw, problems);
  checkModeSpecificKeys(mode, input.values, problems);
  return cluster;
}

function checkCluster(mode: ClusterMode, values: KeyValues, raw: RawStackConfig, problems: SettingProblem[]): ClusterConfig | undefined {
  const before = problems.length;
  switch (mode) {
    case "create": {
      const { kubernetesVersion, nodeInstanceType } = values;
      if (!KUBERNETES_VERSION_PATTERN.test(kubernetesVersion)) {
        problems.push({ key: fullKey("kubernetesVersion"), reason: `must look like 1.33, got "${kubernetesVersion}"` });
      }
      if (!isInstanceType(nodeInstanceType)) {
        problems.push({ key: fullKey("nodeInstanceType"), reason: `must be an EC2 instance type such as t3.medium, got "${nodeInstanceType}"` });
      }
      const nodeCount = { min: values.nodeMinCount, desired: values.nodeDesiredCount, max: values.nodeMaxCount };
      if (nodeCount.min > nodeCount.max) {
        problems.push({ key: fullKey("nodeMinCount"), reason: `${nodeCount.min} is above nodeMaxCount (${nodeCount.max})` });
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
      if (problems.length > before) return undefined;
      return { mode, kubernetesVersion, nodeInstanceType, nodeCount, adminPrincipalArns };
    }
    case "stack": {
      const clusterStack = values.clusterStack;
      const problem = checkClusterStack(clusterStack, raw);
      if (problem !== undefined) problems.push({ key: fullKey("clusterStack"), reason: problem });
      return problem === undefined ? { mode, clusterStack } : undefined;
    }
    case "existing": {
      const clusterName = values.clusterName;
      if (clusterName === "") {
        problems.push({ key: fullKey("clusterName"), reason: "required when clusterMode is existing: the name of the EKS cluster to adopt" });
        return undefined;
      }
      if (!EKS_CLUSTER_NAME_PATTERN.test(clusterName)) {
        problems.push({ key: fullKey("clusterName"), reason: `"${clusterName}" is not an EKS cluster name` });
        return undefined;
      }
      return { mode, clusterName };
    }
  }
}

function checkClusterStack(clusterStack: string, raw: RawStackConfig): string | undefined {
  if (clusterStack === "") {
    return `required when clusterMode is stack: the create-mode stack to borrow from, as <organization>/${PROJECT}/<stack>`;
  }
  const match = STACK_PATH_PATTERN.exec(clusterStack);
  if (match === null) return `must be <organization>/${PROJECT}/<stack>, got "${clusterStack}"`;
  const [, organization, project, stack] = match;
  if (project !== PROJECT) return `must name a stack of this project (${PROJECT}), got project "${project}"`;
  if (stack === raw.stack && (raw.organization === undefined || organization === raw.organization)) {
    return "names this very stack; a stack cannot borrow its own cluster";
  }
  return undefined;
}

/** A key that belongs to another cluster mode must keep its default, so a stale setting never passes silently. */
function checkModeSpecificKeys(mode: ClusterMode, values: KeyValues, problems: SettingProblem[]): void {
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    if (spec.mode === undefined || spec.mode === mode) continue;
    if (JSON.stringify(values[key]) !== JSON.stringify(spec.default)) {
      problems.push({ key: fullKey(key), reason: `applies only when clusterMode is ${spec.mode} (this stack uses ${mode}); remove it` });
    }
  }
}
