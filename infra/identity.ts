/**
 * IAM Roles for Service Accounts: the role only the consumer's service account can assume (through this
 * cluster's OIDC provider), its least-privilege access to the queue, and the service account annotated
 * with the role, from which the EKS pod identity webhook injects AWS_ROLE_ARN and a projected token.
 * No static credentials anywhere.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { queueConsumerPolicy, webIdentityTrustPolicy } from "./iam-documents";
import type { Labels } from "./labels";

/** The annotation the EKS pod identity webhook reads. */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

export interface ConsumerIdentityArgs {
  /** Physical name of the IAM role (up to 64 characters), scoped by stack. */
  readonly roleName: string;
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  readonly oidcProviderUrl: pulumi.Input<string>;
  /** Namespace of the service account. */
  readonly namespace: pulumi.Input<string>;
  /** Name of the service account the consumer pods run as. */
  readonly serviceAccountName: string;
  /** ARN of the queue the role may consume. */
  readonly queueArn: pulumi.Input<string>;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** Tags for the role. */
  readonly tags: Readonly<Record<string, string>>;
  /** Kubernetes provider of the target cluster. */
  readonly provider: k8s.Provider;
}

export class ConsumerIdentity extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  /** The service account's name, known once it exists with its annotation. */
  readonly serviceAccountName: pulumi.Output<string>;

  constructor(name: string, args: ConsumerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:identity:ConsumerIdentity", name, {}, opts);

    const trust = pulumi
      .all([args.oidcProviderArn, args.oidcProviderUrl, args.namespace])
      .apply(([oidcProviderArn, oidcIssuerUrl, namespace]) =>
        webIdentityTrustPolicy({ oidcProviderArn, oidcIssuerUrl, namespace, serviceAccount: args.serviceAccountName }),
      );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: args.roleName,
        description: "Assumed by the sqs-eks-consumer service account only (IRSA); consumes one queue.",
        assumeRolePolicy: pulumi.jsonStringify(trust),
        tags: args.tags,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    const queueAccess = new aws.iam.RolePolicy(
      `${name}-queue-access`,
      { role: role.name, name: "consume-queue", policy: pulumi.jsonStringify(pulumi.output(args.queueArn).apply(queueConsumerPolicy)) },
      { parent: this },
    );

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          name: args.serviceAccountName,
          namespace: args.namespace,
          labels: args.labels,
          annotations: { [ROLE_ARN_ANNOTATION]: role.arn },
        },
      },
      // Created after the access policy, so pods that use it never start without permissions.
      { parent: this, provider: args.provider, dependsOn: [queueAccess] },
    );

    this.roleArn = role.arn;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.registerOutputs({ roleArn: this.roleArn, serviceAccountName: this.serviceAccountName });
  }
}
