/**
 * Upstream authorization rules the RBAC oracle judges against, transcribed (not derived from this program):
 *
 * - EKS access policies: EKS user guide, "Review access policy permissions"
 *   (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html; source
 *   awsdocs/amazon-eks-user-guide `latest/ug/manage-access/k8s-access/access-policy-reference.adoc`).
 *   AmazonEKSEditPolicy and AmazonEKSViewPolicy list no third-party API group: no `keda.sh`, no
 *   `monitoring.coreos.com`, and no write on `resourcequotas`, `limitranges` or RBAC objects.
 * - Kubernetes' built-in user-facing ClusterRoles, with aggregation resolved: `view` is
 *   `system:aggregate-to-view`; `edit` is `system:aggregate-to-edit` plus `view` (labelled aggregate-to-edit);
 *   kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml`
 *   (Kubernetes docs, "Using RBAC Authorization", User-facing roles).
 */
import type { Rule } from "./authorizer";

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];

/** `system:aggregate-to-view`, and so `view`. */
const VIEW_RULES: Rule[] = [
  {
    apiGroups: [""],
    resources: [
      "configmaps",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "pods",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "serviceaccounts",
      "services",
      "services/status",
    ],
    verbs: READ,
  },
  {
    apiGroups: [""],
    resources: [
      "bindings",
      "events",
      "limitranges",
      "namespaces/status",
      "pods/log",
      "pods/status",
      "replicationcontrollers/status",
      "resourcequotas",
      "resourcequotas/status",
    ],
    verbs: READ,
  },
  { apiGroups: [""], resources: ["namespaces"], verbs: READ },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
  {
    apiGroups: ["apps"],
    resources: [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
    verbs: READ,
  },
  {
    apiGroups: ["autoscaling"],
    resources: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
    verbs: READ,
  },
  { apiGroups: ["batch"], resources: ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], verbs: READ },
  {
    apiGroups: ["extensions"],
    resources: [
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "ingresses",
      "ingresses/status",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "replicationcontrollers/scale",
    ],
    verbs: READ,
  },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets", "poddisruptionbudgets/status"], verbs: READ },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingresses/status", "networkpolicies"], verbs: READ },
];

/** `system:aggregate-to-edit`. */
const AGGREGATE_TO_EDIT_RULES: Rule[] = [
  {
    apiGroups: [""],
    resources: ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
    verbs: READ,
  },
  { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] },
  {
    apiGroups: [""],
    resources: ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
    verbs: WRITE,
  },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  {
    apiGroups: [""],
    resources: [
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
    ],
    verbs: WRITE,
  },
  { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
  {
    apiGroups: ["apps"],
    resources: [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
    ],
    verbs: WRITE,
  },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
  { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: WRITE },
  {
    apiGroups: ["extensions"],
    resources: [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "ingresses",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicationcontrollers/scale",
    ],
    verbs: WRITE,
  },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"], verbs: WRITE },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: [...READ, ...WRITE] },
];

/** Kubernetes' built-in ClusterRoles a cluster has before anyone adds any, aggregation resolved. */
export const BUILT_IN_CLUSTER_ROLES: Readonly<Record<string, readonly Rule[]>> = {
  "cluster-admin": [
    { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
    { nonResourceURLs: ["*"], verbs: ["*"] },
  ],
  view: VIEW_RULES,
  edit: [...AGGREGATE_TO_EDIT_RULES, ...VIEW_RULES],
};

/** The EKS access policies' rules, by policy name (the last part of its ARN). */
export const EKS_ACCESS_POLICIES: Readonly<Record<string, readonly Rule[]>> = {
  AmazonEKSClusterAdminPolicy: BUILT_IN_CLUSTER_ROLES["cluster-admin"]!,
  // The user guide's table for AmazonEKSEditPolicy: the rules of `edit` without coordination.k8s.io leases,
  // pods/eviction and serviceaccounts/token, which the table does not list.
  AmazonEKSEditPolicy: [
    ...AGGREGATE_TO_EDIT_RULES.filter(
      (rule) =>
        !rule.apiGroups?.includes("coordination.k8s.io") &&
        !rule.resources?.includes("pods/eviction") &&
        !rule.resources?.includes("serviceaccounts/token"),
    ),
    ...VIEW_RULES,
  ],
  AmazonEKSViewPolicy: VIEW_RULES,
};
