/**
 * The stack's configuration: every key read once, validated once, and turned into one typed object.
 * `readStackConfig` fails with one `StackConfigError` naming every bad key and why, before any resource
 * is registered.
 *
 * Layout, one concern per module:
 * - keys.ts: CONFIG_KEYS, the table of project keys grouped by concern (CLUSTER_KEYS, QUEUE_KEYS, ...).
 *   Pulumi.yaml's `config:` section is generated from it (`npm run docs`; test/pulumi-yaml.test.ts checks
 *   the committed file is current).
 * - parse.ts: primitives every concern uses (typed key values with defaults, enums, unknown keys), and
 *   `aws:region`.
 * - cluster.ts: where the cluster comes from, the image platform its nodes must run, the identity mode.
 * - developers.ts: who may run developer stacks on a created cluster, and each such stack's quota.
 * - instance-types.ts: what a node of an EC2 instance type holds (pods, vCPUs, memory), for capacity checks.
 * - network.ts: the created cluster's VPC and API endpoint access.
 * - queue.ts: the queue and its dead-letter queue.
 * - workload.ts: the consumer pods and the `consumer` block (the consumer's own settings schema).
 * - autoscaling.ts: KEDA on queue depth; reads the consumer block's and the workload's slices, passed in.
 * - observability.ts: alarms, traces and Prometheus Operator objects.
 * - lifecycle.ts: long-lived or ephemeral, and the leave to replace the queues.
 * - applies-when.ts: keys set where they have no effect (another cluster mode, autoscaling off, a standard
 *   queue, no otlpEndpoint, with or without vpcId), from each key's `mode` and `appliesWhen` in keys.ts.
 * - cross-checks.ts: checks spanning concerns (node architecture vs image platform, pods vs node capacity,
 *   the nodes vs every listed developer's quota),
 *   and the warnings about valid settings that hurt in production (handler timeout vs shutdown budget,
 *   bodies vs heap).
 *
 * How to add a key or a concern: CONTRIBUTING.md, "Add a stack config key".
 */
import * as pulumi from "@pulumi/pulumi";
import { describeProblems, type SettingProblem, type SettingWarning, type Tunables } from "../../consumer/src/contract";
import type { NameScope } from "../names";
import { checkKeysApply } from "./applies-when";
import { readAutoscaling, type AutoscalingConfig } from "./autoscaling";
import { readCluster, readIdentity, readImagePlatform, type ClusterConfig, type IdentityConfig } from "./cluster";
import { crossCheck, crossCheckWarnings } from "./cross-checks";
import type { ImagePlatform } from "./keys";
import { readLifecycle, type LifecycleConfig } from "./lifecycle";
import { readNetwork, type ClusterNetworkConfig } from "./network";
import { readAlarms, readTelemetry, type AlarmsConfig, type TelemetryConfig } from "./observability";
import { configInput, readRegion, unknownKeys, type ConfigInput, type RawStackConfig } from "./parse";
import { readQueue, type QueueConfig } from "./queue";
import { readConsumerBlock, readWorkload, type WorkloadConfig } from "./workload";

export {
  AUTOSCALING_MODES,
  CLUSTER_MODES,
  CONFIG_KEYS,
  CONSUMER_KEY,
  DEFAULT_REGION,
  IDENTITY_MODES,
  IMAGE_PLATFORMS,
  NODE_PROVISIONING_MODES,
  PROJECT,
  fullKey,
  type ClusterMode,
  type ConfigKey,
  type ConfigKeySpec,
  type IdentityMode,
  type ImagePlatform,
  type NodeProvisioning,
} from "./keys";
export {
  MAX_SCALE_DOWN_STABILIZATION_SECONDS,
  MIN_SCALE_DOWN_STABILIZATION_SECONDS,
  type AutoscalingConfig,
  type EnabledAutoscaling,
} from "./autoscaling";
export {
  ADDON_VERSION_PATTERN,
  instanceArchitecture,
  platformArchitecture,
  type AddonVersions,
  type CiAccess,
  type ClusterConfig,
  type IdentityConfig,
  type NodeCount,
} from "./cluster";
export { PERSON_PATTERN, personOwnsNamespace, type Developer, type DeveloperQuota } from "./developers";
export type { LifecycleConfig } from "./lifecycle";
export {
  MAX_PUBLIC_ACCESS_CIDRS,
  RESERVED_IPV4_BLOCKS,
  type ClusterNetworkConfig,
  type NatGatewayMode,
  type NetworkConfig,
} from "./network";
export type { AlarmsConfig, TelemetryConfig } from "./observability";
export type { RawStackConfig } from "./parse";
export type { QueueConfig } from "./queue";
export { MIN_KUBERNETES_HEALTH_PORT, type WorkloadConfig } from "./workload";

/** Everything the program needs, validated. */
export interface StackConfig {
  readonly scope: NameScope;
  readonly region: string;
  readonly cluster: ClusterConfig;
  /** The created cluster's network; undefined unless clusterMode is create. */
  readonly network: ClusterNetworkConfig | undefined;
  readonly imagePlatform: ImagePlatform;
  readonly identity: IdentityConfig;
  readonly queue: QueueConfig;
  readonly workload: WorkloadConfig;
  readonly tunables: Tunables;
  readonly autoscaling: AutoscalingConfig;
  readonly alarms: AlarmsConfig;
  readonly telemetry: TelemetryConfig;
  readonly lifecycle: LifecycleConfig;
}

export type ConfigResult =
  /** `warnings`: valid settings that hurt in production; `readStackConfig` prints them at preview. */
  | { readonly ok: true; readonly value: StackConfig; readonly warnings: readonly SettingWarning[] }
  | { readonly ok: false; readonly problems: readonly SettingProblem[] };

/** The error a bad configuration raises; a RunError, so Pulumi prints the message without a stack trace. */
export class StackConfigError extends pulumi.RunError {
  // One code style with the consumer's errors (consumer/src/errors.ts): PascalCase, as AWS writes its codes.
  readonly code = "InvalidStackConfig";
  readonly problems: readonly SettingProblem[];

  constructor(problems: readonly SettingProblem[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}): ${describeProblems(problems)}`,
    );
    this.problems = problems;
  }
}

/** Reads the running stack's configuration; throws `StackConfigError` naming every problem, and prints each warning (pulumi.log.warn, shown by `pulumi preview`). */
export function readStackConfig(): StackConfig {
  const organization = currentOrganization();
  const result = parseStackConfig({
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    ...(organization === undefined ? {} : { organization }),
    values: pulumi.runtime.allConfig(),
  });
  if (!result.ok) throw new StackConfigError(result.problems);
  for (const warning of result.warnings) void pulumi.log.warn(`${warning.key}: ${warning.message}`);
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

/** Validates a raw configuration; every problem is reported, not just the first. */
export function parseStackConfig(raw: RawStackConfig): ConfigResult {
  const problems: SettingProblem[] = [];
  const input: ConfigInput = configInput(raw, problems);

  const region = readRegion(input, problems);
  const imagePlatform = readImagePlatform(input, problems);
  const cluster = readCluster(input, problems);
  const network = readNetwork(input, problems);
  const identity = readIdentity(input, problems);
  const queue = readQueue(input, problems);
  const workload = readWorkload(input, problems);
  const tunables = readConsumerBlock(input, problems);
  const alarms = readAlarms(input, problems);
  const telemetry = readTelemetry(input, problems);
  const lifecycle = readLifecycle(input, problems);
  const autoscaling = readAutoscaling(input, { tunables, workload }, problems);
  crossCheck({ input, imagePlatform, autoscaling, workload, cluster }, problems);
  checkKeysApply(input, problems);
  problems.push(...unknownKeys(raw));

  if (
    problems.length > 0 ||
    cluster === undefined ||
    imagePlatform === undefined ||
    identity === undefined ||
    tunables === undefined ||
    autoscaling === undefined
  ) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    value: {
      scope: { project: raw.project, stack: raw.stack },
      region,
      cluster,
      network,
      imagePlatform,
      identity,
      queue,
      workload,
      tunables,
      autoscaling,
      alarms,
      telemetry,
      lifecycle,
    },
    warnings: crossCheckWarnings(input, tunables, workload, queue, cluster),
  };
}
