/**
 * EKS Pod Identity (identity mode `pod-identity`): a role trusted by `pods.eks.amazonaws.com` for this
 * cluster, namespace and service account only (session tags), the same least-privilege access policy as IRSA,
 * and an association that binds the role to the service account. The service account carries no annotation:
 * for pods of an associated service account, EKS injects AWS_CONTAINER_CREDENTIALS_FULL_URI and
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and the eks-pod-identity-agent on the node serves the credentials
 * (EKS user guide, "pod-identities", "pod-id-how-it-works"). No OIDC provider is involved.
 * Registered as children of ConsumerIdentity (infra/identity.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrustPolicy, queueConsumerPolicy } from "./iam-documents";
import type { ModeArgs, ModeCredentials } from "./identity-mode";
import { trustedRole } from "./trusted-role";

/** What Pod Identity needs beyond every mode's arguments: the cluster, and its agent. */
export interface PodIdentityTrust {
  readonly mode: "pod-identity";
  /** Name of the EKS cluster the association belongs to. */
  readonly clusterName: pulumi.Input<string>;
  /** ARN of that cluster, which the trust policy pins (eksClusterArn). */
  readonly clusterArn: pulumi.Input<string>;
  /**
   * Version of the cluster's eks-pod-identity-agent (infra/pod-identity-agent.ts): the add-on this stack
   * installs, or the one a lookup found. The association, and so the pods, wait for it.
   */
  readonly agentVersion: pulumi.Input<string>;
}

/**
 * Registers the Pod Identity role (`${name}-pod-identity-role`, physical name `args.roleName`), its access
 * policy and the association (`${name}-pod-identity-association`, created after the policy so the first
 * credentials the agent hands out already work) under `parent`.
 */
export function podIdentityCredentials(
  parent: pulumi.Resource,
  name: string,
  args: ModeArgs,
  trust: PodIdentityTrust,
): ModeCredentials {
  const document = pulumi
    .all([trust.clusterArn, args.namespace])
    .apply(([clusterArn, namespace]) =>
      podIdentityTrustPolicy({ clusterArn, namespace, serviceAccount: args.serviceAccountName }),
    );
  const role = trustedRole(
    `${name}-pod-identity-role`,
    {
      roleName: args.roleName,
      description:
        "Assumed through EKS Pod Identity for the sqs-eks-consumer service account only; consumes one queue.",
      trust: document,
      tags: args.tags,
    },
    parent,
  );
  const queueAccess = new aws.iam.RolePolicy(
    `${name}-pod-identity-queue-access`,
    {
      role: role.name,
      name: "consume-queue",
      policy: pulumi.jsonStringify(pulumi.output(args.queueArn).apply(queueConsumerPolicy)),
    },
    { parent },
  );
  const association = new aws.eks.PodIdentityAssociation(
    `${name}-pod-identity-association`,
    {
      clusterName: pulumi.all([trust.clusterName, trust.agentVersion]).apply(([clusterName]) => clusterName),
      namespace: args.namespace,
      serviceAccount: args.serviceAccountName,
      roleArn: role.arn,
      // The trust policy matches the session tags; without them no pod could assume the role.
      disableSessionTags: false,
      tags: args.tags,
    },
    { parent, dependsOn: [queueAccess] },
  );
  return { roleArn: role.arn, serviceAccountAnnotations: {}, ready: [association] };
}

/**
 * The ARN of an EKS cluster of this account, partition and region, as EKS forms it
 * (arn:<partition>:eks:<region>:<account>:cluster/<name>): what Pod Identity sets as the
 * `eks-cluster-arn` session tag. Pod Identity requires the role in the cluster's account.
 */
export function eksClusterArn(
  clusterName: pulumi.Input<string>,
  region: string,
  opts: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  const partition = aws.getPartitionOutput({}, opts).partition;
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  return pulumi.interpolate`arn:${partition}:eks:${region}:${account}:cluster/${clusterName}`;
}
