/**
 * Who may use a cluster, through EKS access entries (authentication mode API), and whether the identity
 * running pulumi is one of them.
 *
 * A created cluster's entries:
 * - the platform's administrators (`clusterAdminPrincipalArns`): AmazonEKSClusterAdminPolicy, cluster-wide;
 * - the CI deploy role (`ciDeployRoleArn`): AmazonEKSClusterAdminPolicy, cluster-wide, so `pulumi up` from CI
 *   can deploy the KEDA chart, the developer access objects, namespaces and workloads;
 * - the CI preview role (`ciPreviewRoleArn`): AmazonEKSViewPolicy, cluster-wide: a preview lists the API's
 *   groups and reads objects; its server-side dry runs of writes are forbidden, and the Kubernetes provider
 *   then previews client-side (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go);
 * - the people who run developer stacks (`developers`): an entry with a username of their own and the
 *   developers' Kubernetes group, and no access policy: what they may do is Kubernetes RBAC and an admission
 *   policy (infra/developer-access.ts), so that it covers the custom resources a stack registers, tells apart
 *   people who share a role, and never hangs on an access policy association that a change would replace.
 * The identity that creates the cluster gets an admin entry from EKS itself, outside the program
 * (pulumi-eks sets `bootstrapClusterCreatorAdminPermissions`: pulumi/pulumi-eks v4.3.0
 * nodejs/eks/cluster/cluster.ts).
 *
 * An identity without an entry cannot even list the cluster's API groups, so the Kubernetes provider would
 * take the cluster for unreachable. `requireCallerAccess` checks at preview that the caller has one.
 * Sources: https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html (the policies and
 * the Kubernetes roles they match), https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html
 * (one access entry per principal).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { CiAccess } from "./config";
import type { DeveloperAccessEntry } from "./developer-access";

export const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";
export const CLUSTER_VIEW_POLICY = "AmazonEKSViewPolicy";

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

/** Who gets a cluster-wide entry on a created cluster, as the validated config says. */
export interface ClusterUsers {
  readonly adminPrincipalArns: readonly string[];
  readonly ci: CiAccess;
}

/**
 * The access entries of a created cluster: the admins' and the CI roles', keyed by a hash of the principal (so
 * reordering the list replaces nothing), and the developers' (infra/developer-access.ts `developerAccessEntries`).
 */
export function accessEntries(
  partition: string,
  users: ClusterUsers,
  developerEntries: Readonly<Record<string, DeveloperAccessEntry>>,
): Record<string, AccessEntry> {
  const policyArn = (policy: string) => `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
  const clusterWide = (key: string, principalArn: string, policy: string): [string, AccessEntry] => [
    `${key}-${shortHash(principalArn)}`,
    { principalArn, accessPolicies: { [key]: { policyArn: policyArn(policy), accessScope: { type: "cluster" } } } },
  ];
  const entries: Record<string, AccessEntry> = {};
  for (const principalArn of users.adminPrincipalArns) {
    const [key, entry] = clusterWide("admin", principalArn, CLUSTER_ADMIN_POLICY);
    entries[key] = entry;
  }
  for (const [role, principalArn, policy] of [
    ["ci-deploy", users.ci.deployRoleArn, CLUSTER_ADMIN_POLICY],
    ["ci-preview", users.ci.previewRoleArn, CLUSTER_VIEW_POLICY],
  ] as const) {
    if (principalArn === undefined) continue;
    const [key, entry] = clusterWide(role, principalArn, policy);
    entries[key] = entry;
  }
  return { ...entries, ...developerEntries };
}

/**
 * The principal EKS names in access entries for the identity running pulumi: for an assumed role, the role's
 * ARN with its path (the issuer of the session, `aws.iam.getSessionContext`), not the session's ARN.
 */
export function callerPrincipal(opts: pulumi.InvokeOptions): pulumi.Output<string> {
  const caller = aws.getCallerIdentityOutput({}, opts);
  return aws.iam.getSessionContextOutput({ arn: caller.arn }, opts).issuerArn;
}

/** What to say when the caller has no entry: who gives it one. */
export interface AccessFix {
  /** The cluster's name, for the message. */
  readonly clusterName: string;
  /** How the caller gets an entry, e.g. "list it in ciDeployRoleArn, ciPreviewRoleArn or clusterAdminPrincipalArns". */
  readonly remedy: string;
}

/**
 * Resolves to `value` once the identity running pulumi is known to have an access entry on the existing
 * cluster `fix.clusterName` (`aws.eks.getAccessEntry`); fails the preview with a RunError naming the caller,
 * the cluster and the remedy when it has none. Clusters that authenticate through the `aws-auth` ConfigMap as
 * well (`authenticationMode` other than API) may grant access there, which this look-up cannot see: pass
 * `enforce: false` for them, and a missing entry is a warning.
 */
export function requireCallerAccess<T>(
  value: pulumi.Output<T>,
  fix: AccessFix,
  enforce: pulumi.Input<boolean>,
  opts: pulumi.InvokeOptions,
): pulumi.Output<T> {
  const checked = pulumi.all([callerPrincipal(opts), enforce]).apply(async ([principalArn, enforced]) => {
    try {
      await aws.eks.getAccessEntry({ clusterName: fix.clusterName, principalArn }, opts);
    } catch {
      const message = `${principalArn}, the identity running pulumi, has no access entry on EKS cluster ${fix.clusterName}, so it cannot reach the cluster's Kubernetes API: ${fix.remedy} (docs/DEPLOY.md, "Access")`;
      if (enforced) throw new pulumi.RunError(message);
      void pulumi.log.warn(
        `${message}; the cluster also authenticates through the aws-auth ConfigMap, which may grant it`,
      );
    }
    return true;
  });
  return checked.apply(() => value);
}

/**
 * The access entries of a cluster this stack creates, after checking who runs pulumi:
 * - while the cluster does not exist, the caller will create it, and EKS gives the creator an admin entry of
 *   its own; a second entry for the same principal fails with ResourceInUseException once the cluster exists,
 *   so the caller must not be listed (docs/DEPLOY.md, "Access");
 * - once it exists, the caller must have an entry (the creator's, or one of these), or nothing it deploys
 *   into the cluster could be reached.
 */
export function checkedAccessEntries(
  clusterName: string,
  entries: Record<string, AccessEntry>,
  opts: pulumi.InvokeOptions,
): pulumi.Output<Record<string, AccessEntry>> {
  const existing = aws.eks.getClustersOutput({}, opts).names;
  return pulumi.all([existing, callerPrincipal(opts)]).apply(([names, creatorArn]) => {
    if (names.includes(clusterName)) {
      return requireCallerAccess(
        pulumi.output(entries),
        {
          clusterName,
          remedy:
            "list it in ciDeployRoleArn (the CI deploy role), ciPreviewRoleArn (the CI preview role, previews only) or clusterAdminPrincipalArns, and run pulumi up as an identity that has access",
        },
        true,
        opts,
      );
    }
    const listed = Object.values(entries).some((entry) => entry.principalArn === creatorArn);
    if (listed) {
      throw new pulumi.RunError(
        `${creatorArn} is the identity creating the cluster, which EKS already makes cluster admin; remove it from clusterAdminPrincipalArns, ciDeployRoleArn, ciPreviewRoleArn and developers`,
      );
    }
    return pulumi.output(entries);
  });
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}
