/**
 * The consumer's identity: the one service account its pods run as, and the IAM role it gets credentials
 * for, in the stack's identity mode (infra/config/identity.ts):
 * - irsa (infra/irsa.ts): the role trusts the cluster's OIDC provider; the service account is annotated.
 * - pod-identity (infra/pod-identity.ts): the role trusts pods.eks.amazonaws.com; an association binds it;
 *   no annotation, and no dependency on the OIDC provider.
 * Both grant the same least-privilege access (iam-documents.ts queueConsumerPolicy). No static credentials.
 *
 * Switching modes (docs/DEPLOY.md, "Switching a stack between modes"): each mode's role has its own logical
 * and physical name, so `pulumi up` creates the new mode's role (and association) first, updates the service
 * account only after them (dependsOn), rolls the pods (the pod template carries the mode,
 * IDENTITY_MODE_ANNOTATION), and deletes the old mode's role last, after the rollout, as Pulumi deletes what
 * a program no longer declares at the end of an update. The service account is one resource in both modes:
 * only its annotations change, so it is never deleted. That makes irsa -> pod-identity one uninterrupted
 * update; the way back takes three steps, because EKS's webhook gives an association precedence over the
 * annotation (the association must be gone before the pods roll).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IdentityMode } from "./config";
import type { ModeArgs } from "./identity-mode";
import { irsaCredentials, type IrsaTrust } from "./irsa";
import type { Labels } from "./labels";
import { podIdentityCredentials, type PodIdentityTrust } from "./pod-identity";

export { ROLE_ARN_ANNOTATION } from "./irsa";

/** Pod template annotation naming the identity mode: a change of mode changes the template, so pods roll. */
export const IDENTITY_MODE_ANNOTATION = "sqs-eks-consumer/identity";

export interface ConsumerIdentityArgs extends ModeArgs {
  /** The identity mode and what it trusts: the cluster's OIDC provider (irsa) or the cluster itself (pod-identity). */
  readonly trust: IrsaTrust | PodIdentityTrust;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** Kubernetes provider of the target cluster. */
  readonly provider: k8s.Provider;
}

export class ConsumerIdentity extends pulumi.ComponentResource {
  readonly mode: IdentityMode;
  readonly roleArn: pulumi.Output<string>;
  /** The service account's name, known once it exists with this mode's annotations. */
  readonly serviceAccountName: pulumi.Output<string>;
  /** Annotations for the consumer's pod template (IDENTITY_MODE_ANNOTATION). */
  readonly podAnnotations: Readonly<Record<string, string>>;

  constructor(name: string, args: ConsumerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:identity:ConsumerIdentity", name, {}, opts);

    const credentials =
      args.trust.mode === "irsa"
        ? irsaCredentials(this, name, args, args.trust)
        : podIdentityCredentials(this, name, args, args.trust);

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          name: args.serviceAccountName,
          namespace: args.namespace,
          labels: args.labels,
          annotations: credentials.serviceAccountAnnotations,
        },
      },
      // Changed only once this mode's role can be used (its policy, and the association in pod-identity
      // mode), so pods that start with it never start without permissions.
      { parent: this, provider: args.provider, dependsOn: [...credentials.ready] },
    );

    this.mode = args.trust.mode;
    this.roleArn = credentials.roleArn;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.podAnnotations = { [IDENTITY_MODE_ANNOTATION]: this.mode };
    this.registerOutputs({ roleArn: this.roleArn, serviceAccountName: this.serviceAccountName });
  }
}
