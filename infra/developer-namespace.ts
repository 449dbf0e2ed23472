/**
 * A developer stack's side of developer access (infra/developer-access.ts has the platform's): who is
 * running it, and the namespace it makes for itself, with what its developer may do there and what it may
 * use.
 *
 * The developer is found from the caller's AWS identity (`aws sts get-caller-identity`) in the platform's
 * directory, matched as EKS matches an access entry: an IAM user by its ARN, an assumed role by the role
 * (and, for a shared role, the session name). The stack must deploy into one of that person's namespaces
 * (`<project>-<person>` or `<project>-<person>-*`, so a stack named `<person>` or `<person>-...`): the
 * admission policy would refuse any other at `pulumi up`, after `pulumi preview` had fallen back to a
 * client-side dry run and looked fine; here `pulumi preview` refuses it, naming the fix.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { personOwnsNamespace, type DeveloperQuota } from "./config";
import type { Demand } from "./config/cross-checks";
import {
  EDIT_CLUSTER_ROLE,
  PERSON_LABEL,
  developerLimitRangeSpec,
  developerQuotaSpec,
  type DeveloperAccessNames,
  type DeveloperDirectory,
} from "./developer-access";
import type { TargetCluster } from "./cluster";
import type { Labels } from "./labels";
import { POD_SECURITY_LABELS } from "./namespace";

/** The developer running this stack, as the platform knows them. */
export type DirectoryDeveloper = DeveloperDirectory["developers"][number];

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

/**
 * The developer a caller is: an IAM user's ARN equals its entry's principal; an assumed role's session
 * (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) belongs to the entry of that role (its ARN may
 * carry a path the session ARN drops) whose session name is the session's, or which has none (a role of
 * one's own). Throws a RunError naming the entry to ask an administrator for when none matches.
 */
export function developerOf(directory: DeveloperDirectory, callerArn: string, platform: string): DirectoryDeveloper {
  const session = ASSUMED_ROLE.exec(callerArn);
  const found = directory.developers.find((developer) => {
    if (session === null) return developer.principalArn === callerArn;
    const [, partition, account, roleName, sessionName] = session;
    const role = ROLE.exec(developer.principalArn);
    if (role === null || role[1] !== partition || role[2] !== account || role[3] !== roleName) return false;
    return developer.sessionName === undefined || developer.sessionName === sessionName;
  });
  if (found !== undefined) return found;
  const principal =
    session === null
      ? callerArn
      : `arn:${session[1]}:iam::${session[2]}:role/<path>/${session[3]} session=${session[4]}`;
  throw new pulumi.RunError(
    `${callerArn} is not among the developers of ${platform}: an administrator adds "<person>=${principal}" to its developers and runs pulumi up there (docs/DEPLOY.md, "Developer stacks")`,
  );
}

/** Throws a RunError unless `namespace` is one of `developer`'s, naming the stack names that would be. */
export function requireOwnNamespace(names: DeveloperAccessNames, developer: DirectoryDeveloper, namespace: string) {
  if (personOwnsNamespace(names.projectSlug, developer.person, namespace)) return;
  throw new pulumi.RunError(
    `this stack deploys into namespace ${namespace}, which is not ${developer.person}'s: name the stack ${developer.person} or ${developer.person}-<anything> (pulumi stack rename), so its namespace is ${names.projectSlug}-${developer.person}[-...]`,
  );
}

/** What the stack's pods take at once (infra/config/cross-checks.ts `consumerDemand`). */
export type StackDemand = Demand & { readonly memoryLimitMiB: number; readonly containerCpuLimitMillicores: number };

/**
 * Throws a RunError, naming the keys to lower, when the stack's pods at their most (`demand`) would not fit
 * the platform's quota: the quota would refuse the pods at `pulumi up` (a rollout's surge pod first).
 */
export function requireWithinQuota(quota: DeveloperQuota, demand: StackDemand): void {
  const over = [
    demand.pods > quota.pods &&
      `${demand.pods} pods (replicas or maxReplicas, plus one a rollout adds) > ${quota.pods}`,
    demand.cpuMillicores > quota.cpuMillicores &&
      `${demand.cpuMillicores}m CPU requested (cpuRequestMillicores x pods) > ${quota.cpuMillicores}m`,
    demand.memoryMiB > quota.memoryMiB &&
      `${demand.memoryMiB} MiB requested (memoryRequestMiB x pods) > ${quota.memoryMiB} MiB`,
    demand.memoryLimitMiB > quota.memoryMiB &&
      `${demand.memoryLimitMiB} MiB of limits (memoryLimitMiB x pods) > ${quota.memoryMiB} MiB`,
    // The namespace's LimitRange caps each container's CPU limit at the quota's CPU (developer-access.ts).
    demand.containerCpuLimitMillicores > quota.cpuMillicores &&
      `cpuLimitMillicores ${demand.containerCpuLimitMillicores}m > ${quota.cpuMillicores}m, the most a container may be limited to`,
  ].filter((reason): reason is string => typeof reason === "string");
  if (over.length === 0) return;
  throw new pulumi.RunError(
    `this stack's pods would not fit its namespace's quota, set by the platform: ${over.join("; ")}. Lower replicas (or maxReplicas), cpuRequestMillicores, cpuLimitMillicores, memoryRequestMiB or memoryLimitMiB, or ask an administrator to raise developerPods, developerCpuMillicores or developerMemoryMiB`,
  );
}

/**
 * What `npm run developer-stacks` and the cleanup job read of a developer stack (its `developerStack`
 * output): who runs it, on which platform, in which namespace, how long it may sit idle, and what its pods
 * take at most.
 */
export interface DeveloperStackRecord extends Demand {
  readonly person: string;
  readonly platform: string;
  readonly namespace: string;
  readonly ttlHours: number;
}

/** What the namespace needs from the platform and the caller, once both are known. */
export interface DeveloperGrant {
  readonly developer: DirectoryDeveloper;
  readonly directory: DeveloperDirectory;
}

export interface DeveloperNamespaceArgs {
  /** The namespace's name: the stack's scoped name, which must be one of the developer's (`requireOwnNamespace`). */
  readonly namespaceName: string;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** The developer and the platform's directory (borrowCluster). */
  readonly grant: pulumi.Output<DeveloperGrant>;
  /** What the stack's pods take at most, checked against the platform's quota. */
  readonly demand: StackDemand;
  /** Kubernetes provider of the borrowed cluster. */
  readonly provider: k8s.Provider;
}

/**
 * The namespace a developer stack makes for itself on a borrowed cluster, and in it: RoleBindings of its
 * developer to `edit` and to the platform's extensions role, and the platform's ResourceQuota and LimitRange.
 * `name` resolves only once all of them exist, so every object the stack puts into the namespace waits for
 * the rights and the quota. On `pulumi destroy` the quota and limit range go with the namespace
 * (`deletedWith`): the admission policy lets no developer delete them.
 */
export class DeveloperNamespace extends pulumi.ComponentResource {
  /** The namespace's name, known once it exists with its bindings, quota and limit range. */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: DeveloperNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:developer-namespace:DeveloperNamespace", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const grant = args.grant.apply((g) => {
      requireOwnNamespace(g.directory.names, g.developer, args.namespaceName);
      requireWithinQuota(g.directory.quota, args.demand);
      return g;
    });

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespaceName,
          labels: grant.apply((g) => ({
            ...args.labels,
            ...POD_SECURITY_LABELS,
            [PERSON_LABEL]: g.developer.person,
          })),
        },
      },
      childOpts,
    );
    const subjects = grant.apply((g) => [
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: g.developer.username },
    ]);
    const binding = (logical: string, bindingName: pulumi.Input<string>, role: pulumi.Input<string>) =>
      new k8s.rbac.v1.RoleBinding(
        `${name}-${logical}`,
        {
          metadata: { name: bindingName, namespace: namespace.metadata.name, labels: args.labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
          subjects,
        },
        childOpts,
      );
    const edit = binding(
      "edit",
      grant.apply((g) => g.directory.names.editBinding),
      EDIT_CLUSTER_ROLE,
    );
    const extensions = binding(
      "extensions",
      grant.apply((g) => g.directory.names.extensionsBinding),
      grant.apply((g) => g.directory.names.extensionsRole),
    );
    // Written with the rights the extensions binding gives. No developer may delete them (the platform's
    // admission policy), so on destroy they go with the namespace: Pulumi asks no delete of a resource whose
    // `deletedWith` resource is deleted in the same operation.
    const limitedOpts = { ...childOpts, dependsOn: [extensions], deletedWith: namespace };
    const quota = new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: {
          name: grant.apply((g) => g.directory.names.quota),
          namespace: namespace.metadata.name,
          labels: args.labels,
        },
        spec: grant.apply((g) => developerQuotaSpec(g.directory.quota)),
      },
      limitedOpts,
    );
    const limitRange = new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: {
          name: grant.apply((g) => g.directory.names.quota),
          namespace: namespace.metadata.name,
          labels: args.labels,
        },
        spec: grant.apply((g) => developerLimitRangeSpec(g.directory.quota)),
      },
      limitedOpts,
    );

    this.name = pulumi
      .all([namespace.metadata.name, edit.id, extensions.id, quota.id, limitRange.id])
      .apply(([namespaceName]) => namespaceName);
    this.registerOutputs({ name: this.name });
  }
}

/** The `developerStack` output of a borrowing stack. */
export function developerStackRecord(
  cluster: TargetCluster,
  config: { readonly clusterStack: string; readonly ttlHours: number },
  namespace: pulumi.Output<string>,
  demand: Demand,
): pulumi.Output<DeveloperStackRecord> | undefined {
  if (cluster.developerGrant === undefined) return undefined;
  return pulumi.all([cluster.developerGrant, namespace]).apply(([grant, namespaceName]) => ({
    person: grant.developer.person,
    platform: config.clusterStack,
    namespace: namespaceName,
    ttlHours: config.ttlHours,
    pods: demand.pods,
    cpuMillicores: demand.cpuMillicores,
    memoryMiB: demand.memoryMiB,
  }));
}
