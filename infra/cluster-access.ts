/**
 * Who may use a created cluster, through EKS access entries (authentication mode API):
 * - the platform's administrators (`clusterAdminPrincipalArns`): AmazonEKSClusterAdminPolicy, cluster-wide;
 * - each developer stack (`developerStacks`): AmazonEKSEditPolicy scoped to that stack's namespace only. Edit
 *   (Kubernetes' `edit` role) creates Deployments, Secrets and ServiceAccounts in the namespace but not
 *   Roles, RoleBindings or anything cluster-scoped; the namespace itself is created by the platform stack
 *   with the `restricted` Pod Security labels, so no borrower can run a pod as another stack's service
 *   account (and assume its IAM role) or a host-network pod that reaches the node's role.
 * Sources: https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html (the policies and
 * the Kubernetes roles they match), https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html
 * (namespace access scopes; one access entry per principal).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { DeveloperStack } from "./config";

export const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";
export const NAMESPACE_EDIT_POLICY = "AmazonEKSEditPolicy";

/** One access entry of eks.Cluster's `accessEntries`: a principal and its policies with their scopes. */
export interface AccessEntry {
  readonly principalArn: string;
  readonly accessPolicies: Record<
    string,
    {
      readonly policyArn: string;
      readonly accessScope:
        { readonly type: "cluster" } | { readonly type: "namespace"; readonly namespaces: string[] };
    }
  >;
}

/**
 * The access entries of a created cluster, keyed by a hash of the principal (so reordering the lists
 * replaces nothing).
 * @param namespaceOf the namespace a developer stack deploys into (its scoped name).
 */
export function accessEntries(
  partition: string,
  adminPrincipalArns: readonly string[],
  developerStacks: readonly DeveloperStack[],
  namespaceOf: (stack: string) => string,
): Record<string, AccessEntry> {
  const policyArn = (policy: string) => `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
  const entries: Record<string, AccessEntry> = {};
  for (const principalArn of adminPrincipalArns) {
    entries[`admin-${shortHash(principalArn)}`] = {
      principalArn,
      accessPolicies: { admin: { policyArn: policyArn(CLUSTER_ADMIN_POLICY), accessScope: { type: "cluster" } } },
    };
  }
  // EKS allows one access entry per principal: a developer with several stacks gets one, scoped to each namespace.
  const byPrincipal = new Map<string, string[]>();
  for (const { stack, principalArn } of developerStacks)
    byPrincipal.set(principalArn, [...(byPrincipal.get(principalArn) ?? []), namespaceOf(stack)]);
  for (const [principalArn, namespaces] of byPrincipal) {
    entries[`developer-${shortHash(principalArn)}`] = {
      principalArn,
      accessPolicies: {
        edit: { policyArn: policyArn(NAMESPACE_EDIT_POLICY), accessScope: { type: "namespace", namespaces } },
      },
    };
  }
  return entries;
}

/**
 * The access entries, after checking that no listed principal is the identity about to create the cluster.
 * EKS already gives the creator an access entry with cluster admin (bootstrapClusterCreatorAdminPermissions,
 * which this program leaves on so that `pulumi up` can deploy into the cluster it made), and a second entry
 * for the same principal fails with ResourceInUseException once the cluster exists. The check runs only
 * while the cluster does not exist yet: later runs, by whoever, are not the creator (docs/DEPLOY.md).
 * The caller is compared as EKS names it: for an assumed role, the role's ARN with its path (the issuer of
 * the session), not the session's ARN.
 */
export function checkedAccessEntries(
  clusterName: string,
  entries: Record<string, AccessEntry>,
  opts: pulumi.InvokeOptions,
): pulumi.Output<Record<string, AccessEntry>> {
  const existing = aws.eks.getClustersOutput({}, opts).names;
  const caller = aws.getCallerIdentityOutput({}, opts);
  const creator = aws.iam.getSessionContextOutput({ arn: caller.arn }, opts).issuerArn;
  return pulumi.all([existing, creator]).apply(([names, creatorArn]) => {
    const listed = Object.values(entries).some((entry) => entry.principalArn === creatorArn);
    if (!names.includes(clusterName) && listed) {
      throw new pulumi.RunError(
        `${creatorArn} is the identity creating the cluster, which EKS already makes cluster admin; remove it from clusterAdminPrincipalArns and developerStacks`,
      );
    }
    return entries;
  });
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}
