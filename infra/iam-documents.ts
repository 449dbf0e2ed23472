/**
 * The IAM policy documents of this program, as typed pure functions of plain values: no Pulumi runtime,
 * so tests evaluate them with a real IAM policy evaluator. Components serialise them with
 * `pulumi.jsonStringify` once their inputs are known.
 */
import { SQS_ACTIONS_USED } from "../consumer/src/contract";

/** The audience the EKS pod identity webhook puts in projected service account tokens. */
export const STS_AUDIENCE = "sts.amazonaws.com";

export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export type Principal = "*" | { readonly Federated: string } | { readonly Service: string } | { readonly AWS: string };

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Principal;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** Who may assume a role by web identity: one service account of one namespace, through one cluster's OIDC provider. */
export interface WebIdentityTrust {
  /** ARN of the cluster's IAM OIDC provider, arn:aws:iam::<account>:oidc-provider/<issuer>. */
  readonly oidcProviderArn: string;
  /** The cluster's OIDC issuer URL, with or without https:// (e.g. https://oidc.eks.<region>.amazonaws.com/id/<id>). */
  readonly oidcIssuerUrl: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** The issuer as IAM condition keys spell it: the URL without its scheme or a trailing slash. */
export function issuerHostPath(oidcIssuerUrl: string): string {
  return oidcIssuerUrl.replace(/^https:\/\//, "").replace(/\/+$/, "");
}

/** The `sub` claim of a Kubernetes service account token. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/**
 * An IRSA trust policy: only `sts:AssumeRoleWithWebIdentity`, only from this cluster's OIDC provider, only
 * for tokens whose subject is this service account and whose audience is STS (both StringEquals: no wildcards).
 * `sid` names the one statement; the default is the consumer role's (KEDA's roles pass their own: keda.ts).
 */
export function webIdentityTrustPolicy(trust: WebIdentityTrust, sid = "ConsumerServiceAccountOnly"): PolicyDocument {
  const issuer = issuerHostPath(trust.oidcIssuerUrl);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Allow",
        Principal: { Federated: trust.oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: serviceAccountSubject(trust.namespace, trust.serviceAccount),
            [`${issuer}:aud`]: STS_AUDIENCE,
          },
        },
      },
    ],
  };
}

/** The service principal EKS Pod Identity assumes roles as (EKS user guide, "pod-id-role"). */
export const POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com";

/**
 * The session tags EKS Pod Identity sets when it assumes a role for a pod (EKS user guide, "pod-id-abac"),
 * which a trust policy can match as `aws:RequestTag/<tag>`.
 */
export const POD_IDENTITY_SESSION_TAGS = {
  clusterArn: "eks-cluster-arn",
  namespace: "kubernetes-namespace",
  serviceAccount: "kubernetes-service-account",
} as const;

/** Who may assume the consumer's role through EKS Pod Identity: one service account of one namespace on one cluster. */
export interface PodIdentityTrust {
  /** ARN of the EKS cluster, arn:aws:eks:<region>:<account>:cluster/<name>. */
  readonly clusterArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * The role's trust policy for EKS Pod Identity: only `pods.eks.amazonaws.com`, only `sts:AssumeRole` and
 * `sts:TagSession` (it tags every session), and only when the session tags name this cluster, namespace and
 * service account (StringEquals). Without the conditions any association in the account could use the role
 * (EKS user guide, "pod-id-role" and "pod-id-abac").
 */
export function podIdentityTrustPolicy(trust: PodIdentityTrust): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ConsumerServiceAccountOnly",
        Effect: "Allow",
        Principal: { Service: POD_IDENTITY_SERVICE },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: {
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.clusterArn}`]: trust.clusterArn,
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.namespace}`]: trust.namespace,
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.serviceAccount}`]: trust.serviceAccount,
          },
        },
      },
    ],
  };
}

/** What the consumer may do: the SQS actions it calls (consumer/src/contract/permissions.ts), on its own queue only. */
export function queueConsumerPolicy(queueArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "ConsumeOwnQueue", Effect: "Allow", Action: [...SQS_ACTIONS_USED], Resource: queueArn }],
  };
}

/** A queue policy that refuses every request not made over TLS, whoever makes it. */
export function denyInsecureTransportPolicy(queueArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** The trust policy of the managed nodes' instance role. */
export function ec2AssumeRolePolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Ec2Instances", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ],
  };
}

/**
 * Trust policy of the cluster's own role: only EKS assumes it (EKS user guide, "cluster-iam-role"). Under EKS
 * Auto Mode EKS also tags its sessions, so the trust allows `sts:TagSession` too (EKS user guide,
 * "auto-cluster-iam-role").
 */
export function eksAssumeRolePolicy(autoMode = false): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EksControlPlane",
        Effect: "Allow",
        Principal: { Service: "eks.amazonaws.com" },
        Action: autoMode ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole",
      },
    ],
  };
}
