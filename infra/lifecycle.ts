/**
 * What a stack keeps. A long-lived stack protects what holds state or is slow to rebuild, and refuses at
 * preview a change that would replace it; an ephemeral stack (`ephemeral: true`) protects nothing, so
 * `pulumi destroy` removes everything it made (docs/DEPLOY.md, "Protected state").
 *
 * Two mechanisms, each covering what the other cannot:
 * - Resource options, enforced by the Pulumi engine from the stack's state: `protect` makes the engine refuse
 *   to delete or replace a resource, and fail `pulumi preview` saying so (pulumi/pulumi
 *   `pkg/resource/deploy/step_generator.go`, "unable to replace resource"; `step.go`, `DeleteStep.Apply`);
 *   `retainOnDelete` makes it forget a deleted resource and leave it in the cloud (`DeleteStep.Apply` reads the
 *   old state's flag). They hold whatever forces the change, but only once a `pulumi up` has written them, and
 *   the engine's message names the resource, not the key or the way out.
 * - The comparison with the last update: each update exports `createdWith`, the settings that cannot change
 *   in place, and the next preview reads it back through a StackReference to its own stack (the outputs are
 *   in the stack's state, so no cloud is needed) and compares. A change is refused naming the key and how to
 *   migrate, and the stateful components wait for the comparison (`dependsOn`), so even `pulumi up
 *   --skip-preview` refuses before any of them is touched.
 *
 * What cannot change in place, and where that comes from (hashicorp/terraform-provider-aws, whose schemas the
 * Pulumi AWS provider follows):
 * - a queue's name and FIFO type (`name`, `name_prefix`, `fifo_queue` are ForceNew in
 *   `internal/service/sqs/queue.go`): `queueType`, a stack rename and another region replace both queues, and
 *   deleting a queue deletes its messages;
 * - a created cluster's name (`name` is ForceNew in `internal/service/eks/cluster.go`), and the cluster itself
 *   once another cluster mode no longer declares it;
 * - a created cluster's network: `vpc_config.subnet_ids` is not ForceNew, so the provider updates it in place
 *   (`resourceClusterUpdate`, `UpdateClusterConfig`), and EKS accepts only subnets in the cluster's own VPC and
 *   original Availability Zones (EKS user guide, "View Amazon EKS networking requirements for VPC and
 *   subnets"): the update fails after the new network exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNetworkConfig, LifecycleConfig } from "./config";
import type { NameScope } from "./names";

/** The stack output the next preview compares with (`createdWith`). */
export const CREATED_WITH_OUTPUT = "createdWith";

/** The `createdWith` stack output: what the last update applied that cannot change in place. */
export interface CreatedWith {
  /** Physical name of the queue. */
  readonly queueName: string;
  /** Physical name of the dead-letter queue. */
  readonly deadLetterQueueName: string;
  /** The stack's AWS region. */
  readonly region: string;
  /** How the stack got its cluster: create, borrow or adopt. */
  readonly clusterMode: string;
  /** create mode: the EKS cluster's name; "" otherwise. */
  readonly clusterName: string;
  /** create mode: the network keys the cluster was created with, by key name; {} otherwise. */
  readonly network: Readonly<Record<string, unknown>>;
}

/** What comparing the configuration with the last update found. */
export interface Comparison {
  /** Changes refused: each names its key, what it would destroy and what to do instead. */
  readonly refusals: readonly string[];
  /** Changes applied, or settings accepted, that an operator should know about. */
  readonly warnings: readonly string[];
}

const REPLACES_QUEUES =
  "replaces the queue and the dead-letter queue (SQS fixes a queue's name and type when it creates it)";
const MIGRATE_QUEUES =
  'to migrate, drain both queues, or let the new queues be created beside the old ones and move the messages with `npm run redrive` (docs/DEPLOY.md, "Replacing the queue"), with `pulumi config set allowQueueReplacement true` for that update';

/**
 * Compares the last update's `createdWith` (undefined on a stack's first update, or one made before the output
 * existed: nothing to compare) with the one this configuration yields. Pure.
 *
 * Refused on a long-lived stack, a warning on an ephemeral one: a change of the queues' names or region (unless
 * `allowQueueReplacement`), of the created cluster's name, or away from create mode. Refused on every stack: a
 * network key of a created cluster, which EKS would refuse after the new network exists.
 * @param project the running project's name, to tell a stack rename from a project rename in the messages.
 */
export function compareCreatedWith(
  previous: CreatedWith | undefined,
  current: CreatedWith,
  lifecycle: LifecycleConfig,
  project: string,
): Comparison {
  const refusals: string[] = [];
  const warnings: string[] = [];
  if (lifecycle.allowQueueReplacement) {
    warnings.push(
      "allowQueueReplacement: the queues are not protected while it is set; remove it after this update (`pulumi config rm allowQueueReplacement`)",
    );
  }
  if (previous === undefined) {
    // Without a createdWith, no update of this program has written retainOnDelete on the queues yet: the engine
    // reads it from the old state, so a replacement allowed now would delete them with their messages.
    if (lifecycle.allowQueueReplacement && !lifecycle.ephemeral) {
      refusals.push(
        "allowQueueReplacement: this stack's last update recorded no createdWith, so its queues may not be marked retainOnDelete yet and would be deleted with their messages; run `pulumi up` without it first",
      );
    }
    return { refusals, warnings };
  }

  const queues = queueChange(previous, current, project);
  if (queues !== undefined) {
    if (lifecycle.ephemeral)
      warnings.push(`${queues.key}: ${queues.what}; this ephemeral stack's messages are deleted`);
    else if (!lifecycle.allowQueueReplacement)
      refusals.push(`${queues.key}: ${queues.what}, deleting every message in them; ${MIGRATE_QUEUES}`);
  }

  if (previous.clusterMode === "create") {
    const cluster = clusterChange(previous, current, project);
    if (cluster !== undefined) {
      if (lifecycle.ephemeral) warnings.push(`${cluster.key}: ${cluster.what}`);
      else refusals.push(`${cluster.key}: ${cluster.what}; create a new stack for it instead`);
    }
    if (current.clusterMode === "create") refusals.push(...networkChanges(previous.network, current.network));
  }
  return { refusals, warnings };
}

function queueChange(
  previous: CreatedWith,
  current: CreatedWith,
  project: string,
): { readonly key: string; readonly what: string } | undefined {
  if (previous.region !== current.region) {
    return { key: "aws:region", what: `changing it from ${previous.region} to ${current.region} ${REPLACES_QUEUES}` };
  }
  const wasFifo = previous.queueName.endsWith(".fifo");
  const isFifo = current.queueName.endsWith(".fifo");
  if (wasFifo !== isFifo) {
    const type = (fifo: boolean) => (fifo ? "fifo" : "standard");
    return { key: "queueType", what: `changing it from ${type(wasFifo)} to ${type(isFifo)} ${REPLACES_QUEUES}` };
  }
  if (previous.queueName !== current.queueName || previous.deadLetterQueueName !== current.deadLetterQueueName) {
    return {
      key: renamed(previous.queueName, project),
      what: `the queue's name would change from ${previous.queueName} to ${current.queueName}, which ${REPLACES_QUEUES}`,
    };
  }
  return undefined;
}

function clusterChange(
  previous: CreatedWith,
  current: CreatedWith,
  project: string,
): { readonly key: string; readonly what: string } | undefined {
  if (current.clusterMode !== "create") {
    return {
      key: "clusterMode",
      what: `changing it from create to ${current.clusterMode} deletes the cluster this stack created, with every workload on it, the developer stacks that borrow it included`,
    };
  }
  if (previous.clusterName !== current.clusterName) {
    return {
      key: renamed(previous.clusterName, project),
      what: `the cluster's name would change from ${previous.clusterName} to ${current.clusterName}, which replaces it: the cluster and every workload on it are deleted before the new one exists`,
    };
  }
  return undefined;
}

/** Physical names are `<project>-<stack>-...`: a name that still starts with the project's says the stack was renamed. */
function renamed(previousName: string, project: string): string {
  return previousName.startsWith(`${project}-`) ? "the stack's name" : "the project's name";
}

function networkChanges(
  previous: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
): string[] {
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(current)])].sort();
  return keys
    .filter((key) => JSON.stringify(previous[key]) !== JSON.stringify(current[key]))
    .map(
      (key) =>
        `${key}: fixed once the cluster exists (it was ${shown(previous[key])}, it is now ${shown(current[key])}): EKS keeps a cluster in the VPC and Availability Zones it was created in, and the provider would update the cluster's subnets in place, failing after the new network exists; set it back, or create a new stack for the new network (docs/DEPLOY.md, "Network keys are fixed once the cluster exists")`,
    );
}

function shown(value: unknown): string {
  return value === undefined ? "unset" : JSON.stringify(value);
}

/** The message a refused change is reported with: every refusal, each naming its key. */
export function refusalMessage(refusals: readonly string[]): string {
  return `this change would destroy state (${refusals.length} problem${refusals.length === 1 ? "" : "s"}): ${refusals.join("; ")}`;
}

/**
 * The error that stops a refused change: a RunError, so Pulumi prints it without a stack trace. Its message is
 * short on purpose: it reaches the user through every resource that waited on the comparison, each prefixing
 * it with the property it flowed through, so the refusals themselves are logged once, as an error, before it
 * is thrown (`StateGuard`).
 */
export class StateChangeRefused extends pulumi.RunError {
  readonly code = "StateChangeRefused";
  readonly refusals: readonly string[];

  constructor(refusals: readonly string[]) {
    super("stopped before anything that holds state: the change was refused (the error above says why)");
    this.refusals = refusals;
  }
}

export interface StateGuardArgs {
  /** The running stack, whose previous outputs are read. */
  readonly scope: NameScope;
  /** What this configuration yields, exported as `createdWith` by the program. */
  readonly current: CreatedWith;
  readonly lifecycle: LifecycleConfig;
}

/**
 * Reads the last update's `createdWith` through a StackReference to this very stack (`<name>-previous`),
 * compares (`compareCreatedWith`) and prints each warning. `cleared` resolves to no resources; on a refusal
 * it logs `refusalMessage` as an error and fails with `StateChangeRefused`. Give it as `dependsOn` to what a
 * refused change must not touch, which is then registered only once the comparison passed.
 */
export class StateGuard extends pulumi.ComponentResource {
  /** No resources once the comparison passed; a failed Output (`StateChangeRefused`) otherwise. */
  readonly cleared: pulumi.Output<pulumi.Resource[]>;

  constructor(name: string, args: StateGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:lifecycle:StateGuard", name, {}, opts);
    const self = new pulumi.StackReference(
      `${name}-previous`,
      { name: `${organization()}/${args.scope.project}/${args.scope.stack}` },
      { parent: this },
    );
    this.cleared = self.getOutput(CREATED_WITH_OUTPUT).apply((previous: unknown) => {
      const comparison = compareCreatedWith(asCreatedWith(previous), args.current, args.lifecycle, args.scope.project);
      for (const warning of comparison.warnings) void pulumi.log.warn(warning);
      if (comparison.refusals.length > 0) {
        void pulumi.log.error(refusalMessage(comparison.refusals));
        throw new StateChangeRefused(comparison.refusals);
      }
      return [] as pulumi.Resource[];
    });
    this.registerOutputs({});
  }
}

/** A previous `createdWith` output, or undefined when there is none or it has another shape (nothing to compare). */
function asCreatedWith(value: unknown): CreatedWith | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  const strings = ["queueName", "deadLetterQueueName", "region", "clusterMode", "clusterName"];
  if (!strings.every((key) => typeof fields[key] === "string")) return undefined;
  if (typeof fields.network !== "object" || fields.network === null) return undefined;
  return value as CreatedWith;
}

/**
 * The network keys a created cluster was created with, by key name (`createdWith.network`): `vpcCidr` and
 * `availabilityZoneCount` for a VPC of its own, `vpcId` and the subnet lists for a given one; {} outside create
 * mode. `natGateways` and `endpointPublicAccessCidrs` are left out: they change in place.
 */
export function networkKeys(network: ClusterNetworkConfig | undefined): Readonly<Record<string, unknown>> {
  if (network === undefined) return {};
  const vpc = network.vpc;
  return vpc.mode === "create"
    ? { vpcCidr: vpc.cidr, availabilityZoneCount: vpc.zoneCount }
    : { vpcId: vpc.vpcId, privateSubnetIds: vpc.privateSubnetIds, publicSubnetIds: vpc.publicSubnetIds };
}

/** The Pulumi organization ("organization" on a self-managed backend, and when an older CLI reports none). */
function organization(): string {
  try {
    return pulumi.getOrganization() || "organization";
  } catch {
    return "organization";
  }
}

/** Resource options of what holds state: a long-lived stack's are protected and retained, an ephemeral one's neither. */
export interface StateOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
}

/**
 * The queues' options: protected and retained on a long-lived stack; with `allowQueueReplacement`, retained
 * only, so the engine may replace them and leaves the old ones, with their messages, in AWS.
 */
export function queueStateOptions(lifecycle: LifecycleConfig): StateOptions {
  if (lifecycle.ephemeral) return { protect: false, retainOnDelete: false };
  return { protect: !lifecycle.allowQueueReplacement, retainOnDelete: true };
}

/** The ECR repository's options: protected and retained on a long-lived stack. */
export function repositoryStateOptions(lifecycle: LifecycleConfig): StateOptions {
  return lifecycle.ephemeral ? { protect: false, retainOnDelete: false } : { protect: true, retainOnDelete: true };
}

/**
 * The resources pulumi-eks creates for a cluster (pulumi/pulumi-eks `nodejs/eks/cluster/cluster.ts`) that a
 * long-lived stack protects: the EKS cluster and its IAM OIDC provider, which every IRSA role trusts by ARN.
 * Their siblings (security group rules, access entries, the cluster role's attachments) stay unprotected:
 * ordinary changes replace some of them.
 */
export const PROTECTED_CLUSTER_TYPES = [
  "aws:eks/cluster:Cluster",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
] as const;

/**
 * A transform (the `transforms` resource option, which the engine applies to a packaged component's children
 * too) that protects `PROTECTED_CLUSTER_TYPES` among the children of pulumi-eks's cluster component.
 */
export const protectClusterState: pulumi.ResourceTransform = (args) =>
  (PROTECTED_CLUSTER_TYPES as readonly string[]).includes(args.type)
    ? { props: args.props, opts: pulumi.mergeOptions(args.opts, { protect: true }) }
    : undefined;

/**
 * What a created cluster gets: EKS's own deletion protection (EKS refuses DeleteCluster until it is turned off;
 * EKS user guide, "Protect EKS clusters from accidental deletion") and, as a resource option, the transform
 * that protects the cluster and its OIDC provider; neither on an ephemeral stack.
 */
export function clusterStateOptions(lifecycle: LifecycleConfig): {
  readonly deletionProtection: boolean;
  readonly transforms: pulumi.ResourceTransform[];
} {
  return lifecycle.ephemeral
    ? { deletionProtection: false, transforms: [] }
    : { deletionProtection: true, transforms: [protectClusterState] };
}
