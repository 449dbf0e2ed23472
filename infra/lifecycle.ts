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
 *   subnets"): the update fails after the new network exists. The zones a created VPC's subnets were placed in
 *   are recorded too, and reused (infra/network.ts): a subnet's `availability_zone` is ForceNew;
 * - a created cluster's Kubernetes version moves one minor version at a time and never back (EKS user guide,
 *   "Update existing cluster to new Kubernetes version"): EKS refuses the update after the rest has changed;
 * - a created cluster's node provisioning (`nodeProvisioning`). Enabling EKS Auto Mode deletes the managed node
 *   group, its launch template and node role and the vpc-cni, kube-proxy and CoreDNS add-ons in the same update,
 *   and EKS's deletion of a managed node group does not wait for PodDisruptionBudgets (EKS user guide, "Delete a
 *   managed node group"); turning Auto Mode off again is refused by the provider unless compute, storage and load
 *   balancing are all turned off together (`validateAutoModeCustomizeDiff` in `internal/service/eks/cluster.go`).
 *   A stack whose last update predates the record was created with a node group (Auto Mode came later), so it
 *   must set the key; a move to Auto Mode goes through `auto-mode-with-node-group` with a drain between the two
 *   updates, and a move back is made by hand (docs/DEPLOY.md, "From a node group to Auto Mode, without losing
 *   messages").
 *
 * What the state itself holds matters as much as the configuration: `protect` and `retainOnDelete` are read from
 * the old state, so a replacement in the update that makes a long-lived stack ephemeral would fail (protect) or
 * leave the old queues behind (retainOnDelete). `createdWith.ephemeral` records which options the state holds.
 * A stack whose last update predates `createdWith` is compared with that update's own outputs (`queueUrl`,
 * `deadLetterQueueUrl`, `clusterName`), so the first update after this comparison arrived refuses the same.
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
  /** Whether the stack was ephemeral, i.e. its state holds neither `protect` nor `retainOnDelete`. */
  readonly ephemeral: boolean;
  /**
   * create mode: the cluster's Kubernetes version ("1.34"). Exported: the version the cluster runs after the update
   * (EKS's default when the config names none); compared: the version the config asks for, "" when none.
   * "" outside create mode.
   */
  readonly kubernetesVersion: string;
  /**
   * create mode with a VPC of its own: the Availability Zone names of the subnets, index i for subnet i, as the
   * update placed them ([] when compared: the network reuses the recorded ones); [] otherwise.
   */
  readonly availabilityZones: readonly string[];
  /**
   * create mode: how the cluster's nodes are provisioned: "auto-mode", "node-group" or "auto-mode-with-node-group". Exported: what the update
   * applied; compared: the config's `nodeProvisioning` as set, "" when it is left unset. "" outside create mode.
   */
  readonly nodeProvisioning: string;
}

/** The fields of `createdWith` a stack's last update may predate. */
type RecordedLater = "ephemeral" | "kubernetesVersion" | "availabilityZones" | "nodeProvisioning";

/**
 * The last update, as far as it can be known: its `createdWith`, whose fields added later may be missing, or,
 * for an update made before `createdWith` existed, what its outputs say (`source: "outputs"`).
 */
export type PreviousUpdate =
  | ({ readonly source: "createdWith" } & Omit<CreatedWith, RecordedLater> & Partial<Pick<CreatedWith, RecordedLater>>)
  | {
      readonly source: "outputs";
      readonly queueName: string;
      readonly deadLetterQueueName: string;
      readonly region: string;
      /** The cluster the stack used, whichever mode it was in; "" when unknown. */
      readonly clusterName: string;
    };

/** What comparing the configuration with the last update found. */
export interface Comparison {
  /** Changes refused: each names its key, what it would destroy and what to do instead. */
  readonly refusals: readonly string[];
  /** Changes applied, or settings accepted, that an operator should know about. */
  readonly warnings: readonly string[];
}

const REPLACES_QUEUES =
  "replaces the queue and the dead-letter queue (SQS fixes a queue's name and type when it creates it)";
/**
 * How to migrate the queues' messages. SQS moves messages only out of a dead-letter queue, and only to a queue
 * of the same type, standard or FIFO (SQS developer guide, "Configure a dead-letter queue redrive"; API reference,
 * StartMessageMoveTask): across a type change the queues can only be drained.
 */
const MIGRATE_QUEUES = (typeChanges: boolean) =>
  typeChanges
    ? 'to migrate, drain both queues first (SQS moves messages only between queues of the same type, so `npm run redrive` cannot carry them to a queue of the other type), then `pulumi config set allowQueueReplacement true` for that update (docs/DEPLOY.md, "Replacing the queue")'
    : 'to migrate, drain both queues, or let the new queues be created beside the old ones and move the dead-letter queue\'s messages with `npm run redrive` (docs/DEPLOY.md, "Replacing the queue"), with `pulumi config set allowQueueReplacement true` for that update';

/**
 * Compares the last update (`readPreviousUpdate`; undefined on a stack's first update: nothing to compare) with
 * the `createdWith` this configuration yields. Pure.
 *
 * Refused on a long-lived stack, a warning on an ephemeral one whose state is already ephemeral: a change of the
 * queues' names or region (unless `allowQueueReplacement`), of the created cluster's name, or away from create
 * mode. Refused on every stack: such a change in the update that makes the stack ephemeral (the old state's
 * protect and retainOnDelete still apply); `allowQueueReplacement` unless the last update recorded a long-lived
 * state (only then are the queues retainOnDelete); a network key of a created cluster, which EKS would refuse
 * after the new network exists; a Kubernetes version EKS would refuse (a downgrade, or more than one minor version).
 * @param project the running project's name, to tell a stack rename from a project rename in the messages.
 */
export function compareCreatedWith(
  previous: PreviousUpdate | undefined,
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
  // The engine reads retainOnDelete from the old state: only a last update that recorded a long-lived state
  // wrote it on the queues, so a replacement allowed after any other would delete them with their messages.
  if (lifecycle.allowQueueReplacement && !lifecycle.ephemeral) {
    const recordedLongLived = previous?.source === "createdWith" && previous.ephemeral === false;
    if (previous !== undefined && !recordedLongLived)
      refusals.push(
        `allowQueueReplacement: this stack's last update ${previous.source === "outputs" || previous.ephemeral === undefined ? "recorded no createdWith with its lifecycle" : "was ephemeral"}, so its queues may not be marked retainOnDelete yet and would be deleted with their messages; run \`pulumi up\` without it first`,
      );
    else if (previous === undefined)
      refusals.push(
        "allowQueueReplacement: this stack's last update recorded no createdWith, so its queues may not be marked retainOnDelete yet and would be deleted with their messages; run `pulumi up` without it first",
      );
  }
  if (previous === undefined) return { refusals, warnings };

  // A stack made ephemeral in this very update still has the old state's protect and retainOnDelete: the engine
  // would refuse a replacement of what is protected, or leave the replaced queues behind.
  const flipsToEphemeral = lifecycle.ephemeral && previous.source === "createdWith" && previous.ephemeral !== true;
  const ephemeralNow = lifecycle.ephemeral && !flipsToEphemeral;
  const FLIP =
    "this update also makes the stack ephemeral, but the state still holds the protect and retainOnDelete of the last update, so the replacement would fail or leave the old resources behind; run `pulumi up` with only `ephemeral: true` first, then this change";

  const queues = queueChange(previous, current, project);
  if (queues !== undefined) {
    if (flipsToEphemeral) refusals.push(`${queues.key}: ${queues.what}; ${FLIP}`);
    else if (ephemeralNow) warnings.push(`${queues.key}: ${queues.what}; this ephemeral stack's messages are deleted`);
    else if (!lifecycle.allowQueueReplacement)
      refusals.push(
        `${queues.key}: ${queues.what}, deleting every message in them; ${MIGRATE_QUEUES(queues.key === "queueType")}`,
      );
  }

  if (previous.source === "outputs") {
    // An update made before createdWith existed says which cluster it used, not whether it created it.
    if (
      current.clusterMode === "create" &&
      previous.clusterName !== "" &&
      previous.clusterName !== current.clusterName
    ) {
      const what = `the cluster's name would change from ${previous.clusterName} to ${current.clusterName}, which replaces a cluster this stack created (the last update recorded no createdWith, so whether it created ${previous.clusterName} is unknown: run \`pulumi up\` once without this change to record it)`;
      if (ephemeralNow) warnings.push(`${renamed(previous.clusterName, project)}: ${what}`);
      else refusals.push(`${renamed(previous.clusterName, project)}: ${what}`);
    }
    // The same cluster name: the stack most likely created it, before Auto Mode, with a node group.
    if (current.clusterMode === "create" && previous.clusterName === current.clusterName) {
      const nodes = nodeProvisioningChange(undefined, current.nodeProvisioning);
      if (nodes !== undefined) refusals.push(nodes);
    }
    return { refusals, warnings };
  }

  if (previous.clusterMode === "create") {
    const cluster = clusterChange(previous, current, project);
    if (cluster !== undefined) {
      if (flipsToEphemeral) refusals.push(`${cluster.key}: ${cluster.what}; ${FLIP}`);
      else if (ephemeralNow) warnings.push(`${cluster.key}: ${cluster.what}`);
      else refusals.push(`${cluster.key}: ${cluster.what}; create a new stack for it instead`);
    }
    if (current.clusterMode === "create") {
      refusals.push(...networkChanges(previous.network, current.network));
      const version = versionChange(previous.kubernetesVersion ?? "", current.kubernetesVersion);
      if (version !== undefined) refusals.push(version);
      const nodes = nodeProvisioningChange(previous.nodeProvisioning, current.nodeProvisioning);
      if (nodes !== undefined) refusals.push(nodes);
    }
  }
  return { refusals, warnings };
}

const NODES_MIGRATION = 'docs/DEPLOY.md, "From a node group to Auto Mode, without losing messages"';

/**
 * A change of a created cluster's node provisioning EKS or the provider would not make safely, refused on every
 * stack, ephemeral or not (the workload is evicted either way). `recorded` is what the last update applied,
 * undefined when it predates the record: such a cluster was created with a managed node group. `asked` is the
 * config's `nodeProvisioning`, "" when unset (Auto Mode for a new stack). A node-group stack moves to Auto Mode
 * in two updates: auto-mode-with-node-group (Auto Mode beside the group, which keeps its add-ons and Pod
 * Identity agent), then, once the group's nodes are drained by hand, auto-mode. Going straight to auto-mode
 * would delete the node group, its node role and the vpc-cni, kube-proxy and CoreDNS add-ons in one update, and
 * EKS deletes a managed node group without honouring PodDisruptionBudgets (EKS user guide, "Delete a managed
 * node group"). Leaving Auto Mode fails at the provider, which accepts Auto Mode turned off only with compute,
 * storage and load balancing all off together (hashicorp/terraform-provider-aws
 * `internal/service/eks/cluster.go`, `validateAutoModeCustomizeDiff`). Pure.
 */
export function nodeProvisioningChange(recorded: string | undefined, asked: string): string | undefined {
  const running = recorded ?? "node-group";
  const runs =
    running === "auto-mode"
      ? "EKS Auto Mode"
      : running === "node-group"
        ? `a managed node group${recorded === undefined ? " (its last update predates this record, and such clusters were created with one)" : ""}`
        : "EKS Auto Mode beside its managed node group";
  const DELETES =
    "would delete the node group, its node role and the vpc-cni, kube-proxy and CoreDNS add-ons in one update, and EKS terminates a deleted group's nodes without waiting for PodDisruptionBudgets";
  if (asked === "") {
    if (running === "auto-mode") return undefined;
    return `nodeProvisioning: unset, it means auto-mode, but this stack's cluster runs ${runs}: switching ${DELETES}; set it to ${running} to keep it (\`pulumi config set nodeProvisioning ${running}\`), or follow ${NODES_MIGRATION}`;
  }
  if (asked === running) return undefined;
  if (running === "node-group" && asked === "auto-mode-with-node-group") return undefined;
  if (running === "auto-mode-with-node-group" && asked === "auto-mode") return undefined;
  if (running === "node-group")
    return `nodeProvisioning: this stack's cluster runs ${runs}; auto-mode ${DELETES}; set auto-mode-with-node-group first, drain the group's nodes, then set auto-mode (${NODES_MIGRATION})`;
  return `nodeProvisioning: this stack's cluster runs ${runs}; ${asked} would turn Auto Mode off, which the provider refuses unless compute, storage and load balancing are all turned off together, and the nodes Auto Mode launched would go with it; set it back to ${running === "auto-mode" ? "auto-mode" : "auto-mode-with-node-group, or auto-mode once the group's nodes are drained"} (${NODES_MIGRATION} says how to leave Auto Mode by hand)`;
}

/**
 * A Kubernetes version EKS would refuse for a cluster that runs `running`: lower, or more than one minor version
 * higher (EKS user guide, "Update existing cluster to new Kubernetes version": one minor version at a time, and
 * no downgrade). Nothing to check when either is "" (no version asked for, or none recorded).
 */
export function versionChange(running: string, asked: string): string | undefined {
  const parse = (version: string) => /^(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
  const from = parse(running);
  const to = parse(asked);
  if (from === undefined || to === undefined) return undefined;
  const [fromMajor = 0, fromMinor = 0] = from;
  const [toMajor = 0, toMinor = 0] = to;
  const GUIDE =
    'EKS updates a cluster one minor version at a time and never downgrades it (EKS user guide, "Update existing cluster to new Kubernetes version")';
  if (toMajor < fromMajor || (toMajor === fromMajor && toMinor < fromMinor))
    return `kubernetesVersion: the cluster runs ${running}; ${asked} would be a downgrade, which ${GUIDE}: set it to ${running} or later`;
  if (toMajor !== fromMajor || toMinor > fromMinor + 1)
    return `kubernetesVersion: the cluster runs ${running}; ${asked} skips a minor version, and ${GUIDE}: update to ${fromMajor}.${fromMinor + 1} first, then on`;
  return undefined;
}

function queueChange(
  previous: PreviousUpdate,
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
  previous: Pick<CreatedWith, "clusterName">,
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
 * Reads the last update's outputs through a StackReference to this very stack (`<name>-previous`), finds what
 * it applied (`readPreviousUpdate`), compares (`compareCreatedWith`) and prints each warning. `cleared` resolves
 * to no resources; on a refusal it logs `refusalMessage` as an error and fails with `StateChangeRefused`. Give it
 * as `dependsOn` to what a refused change must not touch, which is then registered only once the comparison passed.
 */
export class StateGuard extends pulumi.ComponentResource {
  /** No resources once the comparison passed; a failed Output (`StateChangeRefused`) otherwise. */
  readonly cleared: pulumi.Output<pulumi.Resource[]>;
  /** The Availability Zones the last update placed a created VPC's subnets in; undefined when none are recorded. */
  readonly recordedZones: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: StateGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:lifecycle:StateGuard", name, {}, opts);
    const self = new pulumi.StackReference(
      `${name}-previous`,
      { name: `${organization()}/${args.scope.project}/${args.scope.stack}` },
      { parent: this },
    );
    // Output by output: the stack's outputs as a whole are secret (the kubeconfig is), and that would make the
    // zones, and the subnets that take them, secret too.
    const read = ["queueUrl", "deadLetterQueueUrl", "clusterName", CREATED_WITH_OUTPUT] as const;
    const previous = pulumi
      .all(read.map((name) => self.getOutput(name)))
      .apply((values: unknown[]) =>
        readPreviousUpdate(
          Object.fromEntries(read.flatMap((name, i) => (values[i] === undefined ? [] : [[name, values[i]]]))),
        ),
      );
    this.recordedZones = previous.apply((update) =>
      update?.source === "createdWith" && update.availabilityZones !== undefined && update.availabilityZones.length > 0
        ? [...update.availabilityZones]
        : undefined,
    );
    this.cleared = previous.apply((update) => {
      const comparison = compareCreatedWith(update, args.current, args.lifecycle, args.scope.project);
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

/**
 * What the last update applied, from its outputs: its `createdWith` (fields a later version added may be
 * missing); else, for an update made before `createdWith` existed, the queue names and region in its
 * `queueUrl` and `deadLetterQueueUrl` (https://sqs.<region>.amazonaws.com/<account>/<name>) and its
 * `clusterName`; undefined when there are no such outputs (a stack's first update). Pure.
 */
export function readPreviousUpdate(outputs: Readonly<Record<string, unknown>> | undefined): PreviousUpdate | undefined {
  if (outputs === undefined) return undefined;
  const recorded = outputs[CREATED_WITH_OUTPUT];
  if (typeof recorded === "object" && recorded !== null) {
    const fields = recorded as Record<string, unknown>;
    const strings = ["queueName", "deadLetterQueueName", "region", "clusterMode", "clusterName"];
    if (
      strings.every((key) => typeof fields[key] === "string") &&
      typeof fields.network === "object" &&
      fields.network !== null
    ) {
      const zones = fields.availabilityZones;
      return {
        source: "createdWith",
        queueName: fields.queueName as string,
        deadLetterQueueName: fields.deadLetterQueueName as string,
        region: fields.region as string,
        clusterMode: fields.clusterMode as string,
        clusterName: fields.clusterName as string,
        network: fields.network as Readonly<Record<string, unknown>>,
        ...(typeof fields.ephemeral === "boolean" ? { ephemeral: fields.ephemeral } : {}),
        ...(typeof fields.kubernetesVersion === "string" ? { kubernetesVersion: fields.kubernetesVersion } : {}),
        ...(typeof fields.nodeProvisioning === "string" ? { nodeProvisioning: fields.nodeProvisioning } : {}),
        ...(Array.isArray(zones) && zones.every((zone) => typeof zone === "string")
          ? { availabilityZones: zones }
          : {}),
      };
    }
  }
  const queue = sqsUrl(outputs.queueUrl);
  const deadLetterQueue = sqsUrl(outputs.deadLetterQueueUrl);
  if (queue === undefined || deadLetterQueue === undefined) return undefined;
  return {
    source: "outputs",
    queueName: queue.name,
    deadLetterQueueName: deadLetterQueue.name,
    region: queue.region,
    clusterName: typeof outputs.clusterName === "string" ? outputs.clusterName : "",
  };
}

/** The region and name in an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
function sqsUrl(value: unknown): { readonly region: string; readonly name: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/\d{12}\/([^/]+)$/.exec(value);
  return match === null ? undefined : { region: match[1]!, name: match[2]! };
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
