/**
 * The stack's own namespace, enforcing the Pod Security Standard "restricted": the API server itself refuses
 * a pod that could run as root, escalate privileges, keep capabilities or skip seccomp. A borrowing stack
 * makes its own too, with the same labels, which the platform's admission policy holds it to, and its
 * developer's bindings and quota (infra/developer-namespace.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TargetCluster } from "./cluster";
import { DeveloperNamespace, type StackDemand } from "./developer-namespace";
import type { Labels } from "./labels";

/** Enforce, audit and warn at the "restricted" level of the current Kubernetes release. */
export const POD_SECURITY_LABELS: Labels = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/audit-version": "latest",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/warn-version": "latest",
};

export interface ConsumerNamespaceArgs {
  /** Namespace name (a DNS label, up to 63 characters), scoped by stack. */
  readonly namespaceName: string;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** Kubernetes provider of the target cluster. */
  readonly provider: k8s.Provider;
}

/** The namespace this stack deploys into. */
export interface StackNamespace {
  /** Its name, known once it exists. */
  readonly name: pulumi.Output<string>;
}

/**
 * The namespace this stack deploys into, created here as `name`: on a borrowed cluster a `DeveloperNamespace`
 * (with its developer's bindings and the platform's quota), otherwise a `ConsumerNamespace`.
 */
export function stackNamespace(
  name: string,
  args: Omit<ConsumerNamespaceArgs, "provider"> & {
    readonly cluster: TargetCluster;
    /** What the stack's pods take at most: a borrowing stack's must fit the platform's quota. */
    readonly demand: StackDemand;
  },
): StackNamespace {
  const { cluster, demand, ...namespace } = args;
  if (cluster.developerGrant !== undefined) {
    return new DeveloperNamespace(name, {
      ...namespace,
      grant: cluster.developerGrant,
      demand,
      provider: cluster.provider,
    });
  }
  return new ConsumerNamespace(name, { ...namespace, provider: cluster.provider });
}

/** A namespace of the stack's own, labelled to enforce, audit and warn at the restricted Pod Security level. */
export class ConsumerNamespace extends pulumi.ComponentResource implements StackNamespace {
  /** The namespace's name, known once it exists. */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: ConsumerNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:namespace:ConsumerNamespace", name, {}, opts);

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespaceName, labels: { ...args.labels, ...POD_SECURITY_LABELS } } },
      { parent: this, provider: args.provider },
    );

    this.name = namespace.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}
