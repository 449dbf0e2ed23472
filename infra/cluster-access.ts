/**
 * Who may use a created cluster, through EKS access entries (authentication mode API):
 * - the platform's administrators (`clusterAdminPrincipalArns`): AmazonEKSClusterAdminPolicy, cluster-wide;
 * - the people who run developer stacks (`developers`): an entry with a username of their own and the
 *   developers' Kubernetes group, and no access policy: what they may do is Kubernetes RBAC and an admission
 *   policy (infra/developer-access.ts), so that it covers the custom resources a stack registers, tells apart
 *   people who share a role, and never hangs on an access policy association that a change would replace.
 * Sources: https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html (the policies and
 * the Kubernetes roles they match), https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html
 * (one access entry per principal).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { DeveloperAccessEntry } from "./developer-access";

export const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";

/** One access entry of eks.Cluster's `accessEntries`: a principal, its Kubernetes identity, its policies with their scopes. */
export interface AccessEntry {
  readonly principalArn: string;
  readonly kubernetesGroups?: string[];
  readonly username?: string;
  readonly accessPolicies?: Record<
    string,
    {
      readonly policyArn: string;
      readonly accessScope:
        { readonly type: "cluster" } | { readonly type: "namespace"; readonly namespaces: string[] };
    }
  >;
}

/**
 * The access entries of a created cluster: the admins', keyed by a hash of the principal (so reordering the
 * list replaces nothing), and the developers' (infra/developer-access.ts `developerAccessEntries`).
 */
export function accessEntries(
  partition: string,
  adminPrincipalArns: readonly string[],
  developerEntries: Readonly<Record<string, DeveloperAccessEntry>>,
): Record<string, AccessEntry> {
  const policyArn = (policy: string) => `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
  const entries: Record<string, AccessEntry> = {};
  for (const principalArn of adminPrincipalArns) {
    entries[`admin-${shortHash(principalArn)}`] = {
      principalArn,
      accessPolicies: { admin: { policyArn: policyArn(CLUSTER_ADMIN_POLICY), accessScope: { type: "cluster" } } },
    };
  }
  return { ...entries, ...developerEntries };
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
        `${creatorArn} is the identity creating the cluster, which EKS already makes cluster admin; remove it from clusterAdminPrincipalArns and developers`,
      );
    }
    return entries;
  });
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}
