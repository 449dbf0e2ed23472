/**
 * The namespaces a create-mode stack makes for the developer stacks that borrow its cluster (one per
 * `developerStacks` entry: borrowers have no cluster-scoped rights), labelled for the `restricted` Pod
 * Security Standard, which a namespace editor cannot change; and the ConfigMap that keeps the stack from being
 * destroyed while it lists any.
 *
 * Destroy order. `pulumi destroy` deletes a resource only after everything that depends on it (pulumi/pulumi
 * `pkg/resource/deploy/step_generator.go`, `ScheduleDeletes`), and depending on a component means depending on
 * its children registered before (`pkg/resource/graph/dependency_graph.go`, `DependenciesOf`). So:
 * - each namespace depends on KEDA's chart: it is deleted while KEDA's operator still runs, which removes the
 *   finalizers of the ScaledObjects and TriggerAuthentications in it (with the operator gone first, the
 *   namespace would stay Terminating and its delete time out);
 * - the ConfigMap `developer-stacks` (in the stack's own namespace) depends on every developer namespace, so it
 *   is the first to go, and it is protected while `developerStacks` is not empty: `pulumi destroy` fails at its
 *   preview, naming it, before any developer's namespace is touched. Emptied, it is registered unprotected, so
 *   the next destroy passes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { developerNamespace, type TargetCluster } from "./cluster";
import type { DeveloperStack } from "./config";
import type { Labels } from "./labels";
import type { NameScope } from "./names";
import { POD_SECURITY_LABELS } from "./namespace";

/** The guard's name in the stack's own namespace. */
export const DEVELOPER_STACKS_CONFIG_MAP = "developer-stacks";

export interface DeveloperNamespacesArgs {
  /** The cluster this stack created: its Kubernetes provider, and where the namespaces were registered before. */
  readonly cluster: TargetCluster & { developerNamespaceAlias(stack: string): pulumi.Alias };
  /** This project, for the namespaces' names (each the developer stack's own scoped name). */
  readonly scope: NameScope;
  /** The developer stacks (`developerStacks`), validated by infra/config/. */
  readonly developerStacks: readonly DeveloperStack[];
  /** KEDA's chart: every namespace depends on it, so it outlives them on destroy. */
  readonly kedaChart: pulumi.Resource;
  /** The stack's own namespace, which holds the `developer-stacks` ConfigMap. */
  readonly guardNamespace: pulumi.Input<string>;
  /** Recommended labels of this stack's objects, for the ConfigMap. */
  readonly labels: Labels;
}

/** The developer stacks' namespaces of a created cluster, after KEDA, and the guard against destroying them. */
export class DeveloperNamespaces extends pulumi.ComponentResource {
  /** Developer stack -> its namespace; what the stack exports as `developerNamespaces` for borrowers to read. */
  readonly namespaces: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: DeveloperNamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:developers:DeveloperNamespaces", name, {}, opts);
    const { cluster } = args;

    const namespaces = args.developerStacks.map(
      ({ stack }) =>
        new k8s.core.v1.Namespace(
          `${name}-ns-${stack}`,
          {
            metadata: {
              name: developerNamespace(args.scope, stack),
              labels: { "app.kubernetes.io/managed-by": "pulumi", ...POD_SECURITY_LABELS },
            },
          },
          {
            parent: this,
            provider: cluster.provider,
            dependsOn: [args.kedaChart],
            aliases: [cluster.developerNamespaceAlias(stack)],
          },
        ),
    );

    const listed = args.developerStacks.map(({ stack }) => stack);
    new k8s.core.v1.ConfigMap(
      `${name}-listed`,
      {
        metadata: {
          name: DEVELOPER_STACKS_CONFIG_MAP,
          namespace: args.guardNamespace,
          labels: args.labels,
        },
        data: {
          stacks: listed.join("\n"),
          about:
            "The developer stacks that borrow this cluster. While any is listed, Pulumi refuses to delete this ConfigMap, so `pulumi destroy` of the platform stack stops before their namespaces: destroy those stacks and remove them from developerStacks first.",
        },
      },
      { parent: this, provider: cluster.provider, dependsOn: namespaces, protect: listed.length > 0 },
    );

    this.namespaces = pulumi
      .all(
        namespaces.map((namespace, i) =>
          namespace.metadata.name.apply((namespaceName) => [args.developerStacks[i]!.stack, namespaceName] as const),
        ),
      )
      .apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ namespaces: this.namespaces });
  }
}
