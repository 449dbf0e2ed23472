/**
 * The stack's configuration: every key read once, validated once, and turned into one typed object.
 *
 * `CONFIG_KEYS` is the single table of project config keys: Pulumi.yaml declares exactly these keys with
 * the same types, defaults and descriptions (a test compares them), and the defaults apply here too so the
 * program behaves the same whether or not the Pulumi CLI merged Pulumi.yaml's defaults in. The stack's
 * `consumer` block is validated by the consumer's own settings schema, so `pulumi preview` rejects exactly
 * what the consumer would reject at start-up. A bad configuration fails with one error naming every bad
 * key and why, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { describeProblems, validateTunables, type SettingProblem, type Tunables } from "../consumer/src/settings";
import type { NameScope } from "./names";

export const PROJECT = "sqs-eks-consumer";

export const CLUSTER_MODES = ["create", "stack", "existing"] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];

export const IMAGE_PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type ImagePlatform = (typeof IMAGE_PLATFORMS)[number];

/** The region a stack deploys to unless it sets `aws:region` (Pulumi.yaml carries the same value). */
export const DEFAULT_REGION = "us-west-2";

/** The stack config key of the consumer's tunables block (an object, so Pulumi.yaml cannot declare it). */
export const CONSUMER_KEY = "consumer";

/** Probes need a fixed port, and a non-root container without capabilities cannot bind below 1024. */
export const MIN_KUBERNETES_HEALTH_PORT = 1024;

interface StringKey {
  readonly type: "string";
  readonly default: string;
  readonly description: string;
  /** The cluster mode this key belongs to; in other modes it must keep its default. */
  readonly mode?: ClusterMode;
}

interface IntegerKey {
  readonly type: "integer";
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly description: string;
  readonly mode?: ClusterMode;
}

interface StringArrayKey {
  readonly type: "array";
  readonly default: readonly string[];
  readonly description: string;
  readonly mode?: ClusterMode;
}

export type ConfigKeySpec = StringKey | IntegerKey | StringArrayKey;

/** Every key in the project's namespace (`sqs-eks-consumer:<key>`) except the `consumer` block. */
export const CONFIG_KEYS = {
  clusterMode: {
    type: "string", default: "create",
    description: "Where the cluster comes from: create (a new EKS cluster), stack (borrow the cluster of a create-mode stack of this project), existing (adopt an EKS cluster by name).",
  },
  clusterStack: {
    type: "string", default: "", mode: "stack",
    description: "stack mode: the create-mode stack whose cluster to borrow, as <organization>/sqs-eks-consumer/<stack>.",
  },
  clusterName: {
    type: "string", default: "", mode: "existing",
    description: "existing mode: name of the EKS cluster to adopt; it must already have an IAM OIDC provider.",
  },
  kubernetesVersion: {
    type: "string", default: "1.33", mode: "create",
    description: "create mode: Kubernetes version of the new cluster (standard support only).",
  },
  nodeInstanceType: {
    type: "string", default: "t3.medium", mode: "create",
    description: "create mode: EC2 instance type of the managed nodes; its architecture must match imagePlatform.",
  },
  nodeMinCount: {
    type: "integer", default: 1, min: 0, max: 100, unit: "nodes", mode: "create",
    description: "create mode: fewest managed nodes.",
  },
  nodeDesiredCount: {
    type: "integer", default: 2, min: 0, max: 100, unit: "nodes", mode: "create",
    description: "create mode: managed nodes to start with (between nodeMinCount and nodeMaxCount).",
  },
  nodeMaxCount: {
    type: "integer", default: 3, min: 1, max: 100, unit: "nodes", mode: "create",
    description: "create mode: most managed nodes.",
  },
  clusterAdminPrincipalArns: {
    type: "array", default: [], mode: "create",
    description: "create mode: IAM role or user ARNs granted cluster-admin access, e.g. the developers whose stacks borrow this cluster.",
  },
  imagePlatform: {
    type: "string", default: "linux/amd64",
    description: "Platform the consumer image is built for (linux/amd64 or linux/arm64); must match the nodes' architecture.",
  },
  replicas: {
    type: "integer", default: 2, min: 1, max: 100, unit: "pods",
    description: "Consumer pods.",
  },
  cpuRequestMillicores: {
    type: "integer", default: 100, min: 10, max: 64_000, unit: "millicores",
    description: "CPU request of each consumer pod.",
  },
  cpuLimitMillicores: {
    type: "integer", default: 500, min: 10, max: 64_000, unit: "millicores",
    description: "CPU limit of each consumer pod (at least the request).",
  },
  memoryRequestMiB: {
    type: "integer", default: 128, min: 32, max: 262_144, unit: "MiB",
    description: "Memory request of each consumer pod.",
  },
  memoryLimitMiB: {
    type: "integer", default: 256, min: 64, max: 262_144, unit: "MiB",
    description: "Memory limit of each consumer pod (at least the request); Node's heap is sized from it (old space 75%, semi-space 1/16).",
  },
  maxReceiveCount: {
    type: "integer", default: 5, min: 1, max: 1_000, unit: "receives",
    description: "Receives after which SQS moves a message to the dead-letter queue.",
  },
  messageRetentionSeconds: {
    type: "integer", default: 345_600, min: 60, max: 1_209_600, unit: "s",
    description: "How long the queue keeps a message (default 4 days).",
  },
  dlqMessageRetentionSeconds: {
    type: "integer", default: 1_209_600, min: 60, max: 1_209_600, unit: "s",
    description: "How long the dead-letter queue keeps a message (default 14 days); at least messageRetentionSeconds.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

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

export interface QueueConfig {
  readonly maxReceiveCount: number;
  readonly messageRetentionSeconds: number;
  readonly dlqMessageRetentionSeconds: number;
}

export interface WorkloadConfig {
  readonly replicas: number;
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

/** Everything the program needs, validated. */
export interface StackConfig {
  readonly scope: NameScope;
  readonly region: string;
  readonly cluster: ClusterConfig;
  readonly imagePlatform: ImagePlatform;
  readonly queue: QueueConfig;
  readonly workload: WorkloadConfig;
  readonly tunables: Tunables;
}

/** The raw input: the stack's identity and its config map (`namespace:key` -> string, as Pulumi passes it). */
export interface RawStackConfig {
  readonly project: string;
  readonly stack: string;
  /** The Pulumi organization, when known; used to tell a stack from the stack it borrows from. */
  readonly organization?: string;
  readonly values: Readonly<Record<string, string>>;
}

export type ConfigResult =
  | { readonly ok: true; readonly value: StackConfig }
  | { readonly ok: false; readonly problems: readonly SettingProblem[] };

/** The error a bad configuration raises; a RunError, so Pulumi prints the message without a stack trace. */
export class StackConfigError extends pulumi.RunError {
  readonly code = "SQS_EKS_CONSUMER_INVALID_CONFIG";
  readonly problems: readonly SettingProblem[];

  constructor(problems: readonly SettingProblem[]) {
    super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}): ${describeProblems(problems)}`);
    this.problems = problems;
  }
}

/** Reads the running stack's configuration; throws `StackConfigError` naming every problem. */
export function readStackConfig(): StackConfig {
  const organization = currentOrganization();
  const result = parseStackConfig({
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    ...(organization === undefined ? {} : { organization }),
    values: pulumi.runtime.allConfig(),
  });
  if (!result.ok) throw new StackConfigError(result.problems);
  return result.value;
}

/** The Pulumi organization, when the engine reports one (older CLIs do not). */
function currentOrganization(): string | undefined {
  try {
    return pulumi.getOrganization() || undefined;
  } catch {
    return undefined;
  }
}

/** The full config key, as `pulumi config set` spells it. */
export function fullKey(key: string): string {
  return `${PROJECT}:${key}`;
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const KUBERNETES_VERSION_PATTERN = /^1\.\d{2}$/;
const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const EKS_CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const STACK_PATH_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)$/;
const IAM_PRINCIPAL_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** Validates a raw configuration; every problem is reported, not just the first. */
export function parseStackConfig(raw: RawStackConfig): ConfigResult {
  const problems: SettingProblem[] = [];
  const values = readDeclaredKeys(raw.values, problems);

  const regionValue = raw.values["aws:region"]?.trim() || DEFAULT_REGION;
  if (!REGION_PATTERN.test(regionValue)) {
    problems.push({ key: "aws:region", reason: `"${regionValue}" is not an AWS region name (e.g. eu-west-1)` });
  }

  const mode = checkEnum("clusterMode", values.clusterMode as string, CLUSTER_MODES, problems);
  const imagePlatform = checkEnum("imagePlatform", values.imagePlatform as string, IMAGE_PLATFORMS, problems);
  const cluster = mode === undefined ? undefined : checkCluster(mode, values, raw, imagePlatform, problems);
  checkModeSpecificKeys(mode, values, problems);

  const queue = checkQueue(values, problems);
  const workload = checkWorkload(values, problems);
  const tunables = checkConsumerBlock(raw.values[fullKey(CONSUMER_KEY)], problems);

  problems.push(...unknownKeys(raw.values));

  if (problems.length > 0 || cluster === undefined || imagePlatform === undefined || tunables === undefined) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    value: {
      scope: { project: raw.project, stack: raw.stack },
      region: regionValue,
      cluster,
      imagePlatform,
      queue,
      workload,
      tunables,
    },
  };
}

type KeyValues = { -readonly [K in ConfigKey]: string | number | readonly string[] };

/** Parses each declared key by its type, falling back to the default when unset. */
function readDeclaredKeys(raw: Readonly<Record<string, string>>, problems: SettingProblem[]): KeyValues {
  const values = {} as KeyValues;
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = raw[fullKey(key)];
    if (given === undefined || given.trim() === "") {
      values[key] = spec.default;
      continue;
    }
    const parsed = parseValue(spec, given.trim());
    if (typeof parsed === "object" && "problem" in parsed) {
      problems.push({ key: fullKey(key), reason: parsed.problem });
      values[key] = spec.default;
    } else {
      values[key] = parsed;
    }
  }
  return values;
}

function parseValue(spec: ConfigKeySpec, text: string): string | number | readonly string[] | { problem: string } {
  switch (spec.type) {
    case "string":
      return text;
    case "integer": {
      if (!/^-?\d+$/.test(text)) return { problem: `must be a whole number of ${spec.unit}, got "${text}"` };
      const n = Number(text);
      if (n < spec.min || n > spec.max) return { problem: `must be between ${spec.min} and ${spec.max} ${spec.unit}, got ${n}` };
      return n;
    }
    case "array": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { problem: `must be a list of strings, got ${JSON.stringify(text)}` };
      }
      if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === "string")) {
        return { problem: `must be a list of strings, got ${text}` };
      }
      return parsed;
    }
  }
}

function checkEnum<T extends string>(
  key: ConfigKey,
  value: string,
  allowed: readonly T[],
  problems: SettingProblem[],
): T | undefined {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) problems.push({ key: fullKey(key), reason: `must be one of ${allowed.join(", ")}, got "${value}"` });
  return match;
}

function checkCluster(
  mode: ClusterMode,
  values: KeyValues,
  raw: RawStackConfig,
  imagePlatform: ImagePlatform | undefined,
  problems: SettingProblem[],
): ClusterConfig | undefined {
  const before = problems.length;
  switch (mode) {
    case "create": {
      const kubernetesVersion = values.kubernetesVersion as string;
      if (!KUBERNETES_VERSION_PATTERN.test(kubernetesVersion)) {
        problems.push({ key: fullKey("kubernetesVersion"), reason: `must look like 1.33, got "${kubernetesVersion}"` });
      }
      const nodeInstanceType = values.nodeInstanceType as string;
      if (!INSTANCE_TYPE_PATTERN.test(nodeInstanceType)) {
        problems.push({ key: fullKey("nodeInstanceType"), reason: `must be an EC2 instance type such as t3.medium, got "${nodeInstanceType}"` });
      } else if (imagePlatform !== undefined && instanceArchitecture(nodeInstanceType) !== platformArchitecture(imagePlatform)) {
        problems.push({
          key: fullKey("nodeInstanceType"),
          reason: `${nodeInstanceType} is ${instanceArchitecture(nodeInstanceType)} but imagePlatform is ${imagePlatform}; the pods could not start`,
        });
      }
      const nodeCount = {
        min: values.nodeMinCount as number,
        desired: values.nodeDesiredCount as number,
        max: values.nodeMaxCount as number,
      };
      if (nodeCount.min > nodeCount.max) {
        problems.push({ key: fullKey("nodeMinCount"), reason: `${nodeCount.min} is above nodeMaxCount (${nodeCount.max})` });
      }
      if (nodeCount.desired < nodeCount.min || nodeCount.desired > nodeCount.max) {
        problems.push({
          key: fullKey("nodeDesiredCount"),
          reason: `${nodeCount.desired} is outside nodeMinCount..nodeMaxCount (${nodeCount.min}..${nodeCount.max})`,
        });
      }
      const adminPrincipalArns = values.clusterAdminPrincipalArns as readonly string[];
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
      const clusterStack = values.clusterStack as string;
      const problem = checkClusterStack(clusterStack, raw);
      if (problem !== undefined) problems.push({ key: fullKey("clusterStack"), reason: problem });
      return problem === undefined ? { mode, clusterStack } : undefined;
    }
    case "existing": {
      const clusterName = values.clusterName as string;
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
function checkModeSpecificKeys(mode: ClusterMode | undefined, values: KeyValues, problems: SettingProblem[]): void {
  if (mode === undefined) return;
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    if (spec.mode === undefined || spec.mode === mode) continue;
    if (JSON.stringify(values[key]) !== JSON.stringify(spec.default)) {
      problems.push({ key: fullKey(key), reason: `applies only when clusterMode is ${spec.mode} (this stack uses ${mode}); remove it` });
    }
  }
}

function checkQueue(values: KeyValues, problems: SettingProblem[]): QueueConfig {
  const queue: QueueConfig = {
    maxReceiveCount: values.maxReceiveCount as number,
    messageRetentionSeconds: values.messageRetentionSeconds as number,
    dlqMessageRetentionSeconds: values.dlqMessageRetentionSeconds as number,
  };
  // SQS keeps a dead-lettered message's original enqueue time, so a shorter DLQ retention loses messages early.
  if (queue.dlqMessageRetentionSeconds < queue.messageRetentionSeconds) {
    problems.push({
      key: fullKey("dlqMessageRetentionSeconds"),
      reason: `${queue.dlqMessageRetentionSeconds} is below messageRetentionSeconds (${queue.messageRetentionSeconds}); dead-lettered messages would expire early`,
    });
  }
  return queue;
}

function checkWorkload(values: KeyValues, problems: SettingProblem[]): WorkloadConfig {
  const workload: WorkloadConfig = {
    replicas: values.replicas as number,
    cpuRequestMillicores: values.cpuRequestMillicores as number,
    cpuLimitMillicores: values.cpuLimitMillicores as number,
    memoryRequestMiB: values.memoryRequestMiB as number,
    memoryLimitMiB: values.memoryLimitMiB as number,
  };
  if (workload.cpuLimitMillicores < workload.cpuRequestMillicores) {
    problems.push({
      key: fullKey("cpuLimitMillicores"),
      reason: `${workload.cpuLimitMillicores} is below cpuRequestMillicores (${workload.cpuRequestMillicores})`,
    });
  }
  if (workload.memoryLimitMiB < workload.memoryRequestMiB) {
    problems.push({
      key: fullKey("memoryLimitMiB"),
      reason: `${workload.memoryLimitMiB} is below memoryRequestMiB (${workload.memoryRequestMiB})`,
    });
  }
  return workload;
}

/** The `consumer` block, checked by the consumer's schema plus what running on Kubernetes adds. */
function checkConsumerBlock(text: string | undefined, problems: SettingProblem[]): Tunables | undefined {
  const key = fullKey(CONSUMER_KEY);
  let block: unknown = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      block = JSON.parse(text);
    } catch {
      block = text;
    }
  }
  if (typeof block !== "object" || block === null || Array.isArray(block)) {
    problems.push({ key, reason: `must be an object of consumer settings (e.g. handlerTimeoutSeconds: 60), got ${JSON.stringify(block)}` });
    return undefined;
  }
  const result = validateTunables(block as Record<string, unknown>, `${key}.`);
  if (!result.ok) {
    problems.push(...result.problems);
    return undefined;
  }
  if (result.value.healthPort < MIN_KUBERNETES_HEALTH_PORT) {
    problems.push({
      key: `${key}.healthPort`,
      reason: `must be at least ${MIN_KUBERNETES_HEALTH_PORT} on Kubernetes (probes need a fixed port; the restricted pod cannot bind below 1024), got ${result.value.healthPort}`,
    });
    return undefined;
  }
  return result.value;
}

function unknownKeys(values: Readonly<Record<string, string>>): SettingProblem[] {
  const known = new Set<string>([...CONFIG_KEY_NAMES, CONSUMER_KEY].map(fullKey));
  return Object.keys(values)
    .filter((key) => key.startsWith(`${PROJECT}:`) && !known.has(key))
    .map((key) => ({ key, reason: `unknown config key; known: ${[...CONFIG_KEY_NAMES, CONSUMER_KEY].join(", ")}` }));
}

/** The CPU architecture of an EC2 instance type: Graviton families carry a "g" after the generation (t4g, m7gd, c7gn). */
export function instanceArchitecture(instanceType: string): "amd64" | "arm64" {
  const family = instanceType.split(".")[0] ?? "";
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "amd64";
}

export function platformArchitecture(platform: ImagePlatform): "amd64" | "arm64" {
  return platform === "linux/arm64" ? "arm64" : "amd64";
}
