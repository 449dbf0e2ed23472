/**
 * The consumer's identity: the one service account its pods run as, and the IAM role it gets credentials
 * for, in the stack's identity mode (infra/config/cluster.ts):
 * - irsa: IAM Roles for Service Accounts. The role trusts the cluster's OIDC provider for this service
 *   account only; the service account carries the role's ARN, from which the EKS pod identity webhook
 *   injects AWS_ROLE_ARN and a projected token (EKS user guide, "iam-roles-for-service-accounts").
 * - pod-identity: EKS Pod Identity. The role trusts `pods.eks.amazonaws.com` for this cluster, namespace and
 *   service account only (session tags); an association binds it to the service account, which carries no
 *   annotation. For pods of an associated service account EKS injects AWS_CONTAINER_CREDENTIALS_FULL_URI and
 *   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and the eks-pod-identity-agent on the node serves the credentials
 *   (EKS user guide, "pod-identities", "pod-id-how-it-works"). No OIDC provider is involved.
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
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TargetCluster } from "./cluster";
import type { IdentityMode } from "./config";
import {
  podIdentityTrustPolicy,
  queueConsumerPolicy,
  webIdentityTrustPolicy,
  type PolicyDocument,
} from "./iam-documents";
import type { Labels } from "./labels";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/** The service account the consumer runs as; its role trusts exactly this name in this stack's namespace. */
export const SERVICE_ACCOUNT_NAME = "sqs-consumer";

/** The annotation the EKS pod identity webhook reads (irsa mode). */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

/** Pod template annotation naming the identity mode: a change of mode changes the template, so pods roll. */
export const IDENTITY_MODE_ANNOTATION = "sqs-eks-consumer/identity";

export interface ConsumerIdentityArgs {
  /** irsa or pod-identity. */
  readonly mode: IdentityMode;
  /** The cluster the consumer runs on: irsa trusts its OIDC provider, pod-identity associates the role with it. */
  readonly cluster: TargetCluster;
  /**
   * pod-identity mode: version of the cluster's eks-pod-identity-agent (infra/pod-identity-agent.ts); the
   * association, and so the pods, wait for it. Required in that mode, ignored in irsa mode.
   */
  readonly podIdentityAgentVersion: pulumi.Input<string> | undefined;
  /** Project and stack: the role's physical name is scoped by them (one name per mode, up to 64 characters). */
  readonly scope: NameScope;
  /** AWS region of the cluster (pod-identity: part of the cluster ARN the trust policy pins). */
  readonly region: string;
  /** Namespace of the service account. */
  readonly namespace: pulumi.Input<string>;
  /** ARN of the queue the role may consume. */
  readonly queueArn: pulumi.Input<string>;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** Tags for AWS resources. */
  readonly tags: Readonly<Record<string, string>>;
  /** The permissions boundary of the roles created here (`rolePermissionsBoundary`); undefined: none. */
  readonly permissionsBoundary: string | undefined;
}

/**
 * The consumer's service account `sqs-consumer` and the current mode's IAM role, with its access policy
 * and, in pod-identity mode, its association. Children: `<name>-role` and `<name>-queue-access` (irsa),
 * `<name>-pod-identity-role`, `<name>-pod-identity-queue-access`, `<name>-pod-identity-association`
 * (pod-identity), `<name>-service-account` (both).
 */
export class ConsumerIdentity extends pulumi.ComponentResource {
  readonly mode: IdentityMode;
  /** ARN of the current mode's role. */
  readonly roleArn: pulumi.Output<string>;
  /** The service account's name, known once it exists with this mode's annotations. */
  readonly serviceAccountName: pulumi.Output<string>;
  /** Annotations for the consumer's pod template (IDENTITY_MODE_ANNOTATION). */
  readonly podAnnotations: Readonly<Record<string, string>>;

  constructor(name: string, args: ConsumerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:identity:ConsumerIdentity", name, {}, opts);

    const credentials = args.mode === "irsa" ? this.irsa(name, args) : this.podIdentity(name, args);

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          name: SERVICE_ACCOUNT_NAME,
          namespace: args.namespace,
          labels: args.labels,
          annotations: credentials.serviceAccountAnnotations,
        },
      },
      // Changed only once this mode's role can be used (its policy, and the association in pod-identity
      // mode), so pods that start with it never start without permissions.
      { parent: this, provider: args.cluster.provider, dependsOn: [credentials.ready] },
    );

    this.mode = args.mode;
    this.roleArn = credentials.role.arn;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.podAnnotations = { [IDENTITY_MODE_ANNOTATION]: this.mode };
    this.registerOutputs({ roleArn: this.roleArn, serviceAccountName: this.serviceAccountName });
  }

  /**
   * IRSA: the role `${name}-role` (physical name `<project>-<stack>-consumer`, the name IRSA stacks have
   * always had) and its access policy `${name}-queue-access`; the service account carries the role's ARN.
   */
  private irsa(name: string, args: ConsumerIdentityArgs): ModeCredentials {
    const { cluster } = args;
    const trust = pulumi
      .all([cluster.oidcProviderArn, cluster.oidcProviderUrl, args.namespace])
      .apply(([oidcProviderArn, oidcIssuerUrl, namespace]) =>
        webIdentityTrustPolicy({ oidcProviderArn, oidcIssuerUrl, namespace, serviceAccount: SERVICE_ACCOUNT_NAME }),
      );
    const role = trustedRole(
      `${name}-role`,
      {
        roleName: scopedName(args.scope, "consumer", NAME_LIMITS.iamRole),
        description: "Assumed by the sqs-eks-consumer service account only (IRSA); consumes one queue.",
        trust,
        tags: args.tags,
        permissionsBoundary: args.permissionsBoundary,
      },
      this,
    );
    const queueAccess = this.queueAccess(`${name}-queue-access`, role, args.queueArn);
    return { role, serviceAccountAnnotations: { [ROLE_ARN_ANNOTATION]: role.arn }, ready: queueAccess };
  }

  /**
   * EKS Pod Identity: the role `${name}-pod-identity-role` (physical name
   * `<project>-<stack>-consumer-pod-identity`), its access policy, and the association
   * `${name}-pod-identity-association`, created after the policy so the first credentials the agent hands
   * out already work, and after the agent.
   */
  private podIdentity(name: string, args: ConsumerIdentityArgs): ModeCredentials {
    const { cluster, podIdentityAgentVersion } = args;
    if (podIdentityAgentVersion === undefined) throw new Error("pod-identity mode needs the cluster's agent version");
    const clusterArn = eksClusterArn(cluster.clusterName, args.region, {});
    const trust = pulumi
      .all([clusterArn, args.namespace])
      .apply(([arn, namespace]) =>
        podIdentityTrustPolicy({ clusterArn: arn, namespace, serviceAccount: SERVICE_ACCOUNT_NAME }),
      );
    const role = trustedRole(
      `${name}-pod-identity-role`,
      {
        roleName: scopedName(args.scope, "consumer-pod-identity", NAME_LIMITS.iamRole),
        description:
          "Assumed through EKS Pod Identity for the sqs-eks-consumer service account only; consumes one queue.",
        trust,
        tags: args.tags,
        permissionsBoundary: args.permissionsBoundary,
      },
      this,
    );
    const queueAccess = this.queueAccess(`${name}-pod-identity-queue-access`, role, args.queueArn);
    const association = new aws.eks.PodIdentityAssociation(
      `${name}-pod-identity-association`,
      {
        clusterName: pulumi.all([cluster.clusterName, podIdentityAgentVersion]).apply(([clusterName]) => clusterName),
        namespace: args.namespace,
        serviceAccount: SERVICE_ACCOUNT_NAME,
        roleArn: role.arn,
        // The trust policy matches the session tags; without them no pod could assume the role.
        disableSessionTags: false,
        tags: args.tags,
      },
      { parent: this, dependsOn: [queueAccess] },
    );
    return { role, serviceAccountAnnotations: {}, ready: association };
  }

  /** The role's inline policy `consume-queue`: the SQS actions the consumer calls, on its queue only. */
  private queueAccess(name: string, role: aws.iam.Role, queueArn: pulumi.Input<string>): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      name,
      {
        role: role.name,
        name: "consume-queue",
        policy: pulumi.jsonStringify(pulumi.output(queueArn).apply(queueConsumerPolicy)),
      },
      { parent: this },
    );
  }
}

/** What a mode gives the service account. */
interface ModeCredentials {
  readonly role: aws.iam.Role;
  /** Annotations the service account carries in this mode (IRSA's role ARN; none for Pod Identity). */
  readonly serviceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
  /** What must exist before the service account changes, so pods that start with it get working credentials. */
  readonly ready: pulumi.Resource;
}

export interface TrustedRoleArgs {
  /** Physical role name (IAM allows up to 64 characters), scoped by stack. */
  readonly roleName: pulumi.Input<string>;
  /** What the role is for, shown in the IAM console. */
  readonly description: string;
  /** Who may assume the role. */
  readonly trust: pulumi.Input<PolicyDocument>;
  readonly tags: Readonly<Record<string, string>>;
  /** ARN of the managed policy that bounds the role (`rolePermissionsBoundary`); undefined: none. */
  readonly permissionsBoundary: string | undefined;
}

/**
 * The IAM role every identity in this program gets (the consumer's, in either mode, KEDA's operator's and
 * each stack's scaler role), registered as `name` under `parent`: a fixed physical name scoped by stack, one
 * trust policy as a typed document, the stack's tags. The name is fixed, so a replacement deletes the old
 * role first (deleteBeforeReplace): creating the new one first would fail with EntityAlreadyExists.
 */
export function trustedRole(name: string, args: TrustedRoleArgs, parent: pulumi.Resource): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      name: args.roleName,
      description: args.description,
      assumeRolePolicy: pulumi.jsonStringify(args.trust),
      ...(args.permissionsBoundary === undefined ? {} : { permissionsBoundary: args.permissionsBoundary }),
      tags: args.tags,
    },
    { parent, deleteBeforeReplace: true },
  );
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
