/**
 * IAM Roles for Service Accounts (identity mode `irsa`): the role only the consumer's service account can
 * assume through the cluster's OIDC provider, and the service account annotation from which the EKS pod
 * identity webhook injects AWS_ROLE_ARN and a projected token (EKS user guide, "iam-roles-for-service-accounts").
 * Registered as children of ConsumerIdentity (infra/identity.ts), under the names IRSA stacks have always had.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { queueConsumerPolicy, webIdentityTrustPolicy } from "./iam-documents";
import type { ModeCredentials, ModeArgs } from "./identity-mode";
import { trustedRole } from "./trusted-role";

/** The annotation the EKS pod identity webhook reads. */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

/** What IRSA needs beyond every mode's arguments: the cluster's OIDC provider. */
export interface IrsaTrust {
  readonly mode: "irsa";
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  readonly oidcProviderUrl: pulumi.Input<string>;
}

/**
 * Registers the IRSA role (`${name}-role`, physical name `args.roleName`) and its access policy
 * (`${name}-queue-access`) under `parent`; returns the role and the annotation the service account carries.
 */
export function irsaCredentials(
  parent: pulumi.Resource,
  name: string,
  args: ModeArgs,
  trust: IrsaTrust,
): ModeCredentials {
  const document = pulumi
    .all([trust.oidcProviderArn, trust.oidcProviderUrl, args.namespace])
    .apply(([oidcProviderArn, oidcIssuerUrl, namespace]) =>
      webIdentityTrustPolicy({ oidcProviderArn, oidcIssuerUrl, namespace, serviceAccount: args.serviceAccountName }),
    );
  const role = trustedRole(
    `${name}-role`,
    {
      roleName: args.roleName,
      description: "Assumed by the sqs-eks-consumer service account only (IRSA); consumes one queue.",
      trust: document,
      tags: args.tags,
    },
    parent,
  );
  const queueAccess = new aws.iam.RolePolicy(
    `${name}-queue-access`,
    {
      role: role.name,
      name: "consume-queue",
      policy: pulumi.jsonStringify(pulumi.output(args.queueArn).apply(queueConsumerPolicy)),
    },
    { parent },
  );
  return { roleArn: role.arn, serviceAccountAnnotations: { [ROLE_ARN_ANNOTATION]: role.arn }, ready: [queueAccess] };
}
