/**
 * Developer stacks on a created cluster: what the platform grants, once per person, so that each developer
 * then creates and destroys their own stacks without an administrator.
 *
 * The model (docs/DEPLOY.md, "Developer stacks"):
 * - Who: each listed person gets a Kubernetes username of their own and the group DEVELOPER_GROUP, through
 *   an EKS access entry for their IAM principal with no access policy. A principal of their own maps to the
 *   fixed username `<project>:developer:<person>`; a role people share maps, through EKS's `{{SessionNameRaw}}`
 *   template, to `<project>:session:<session name>`, the session name unchanged, so two people on one IAM
 *   Identity Center role are two Kubernetes users, and `bob@example.com` is never the same user as a session
 *   named `bob-example.com` (`{{SessionName}}` would write both as `bob-example.com`; EKS user guide, "Set a
 *   custom username for EKS access entries", which names both templates for a role's entry;
 *   kubernetes-sigs/aws-iam-authenticator `pkg/server/server.go`, renderTemplate). An access entry is
 *   keyed by its principal and changes in place (username and groups update; terraform-provider-aws
 *   `internal/service/eks/access_entry.go`): adding or removing a person never replaces another's entry,
 *   and no namespace list exists to be replaced (an access policy association's scope would force a
 *   replacement: `access_policy_association.go`, `access_scope` ForceNew).
 * - What, cluster-wide (ClusterRole `<project>:developer-namespaces`, bound to the group): create, read and
 *   delete namespaces; create RoleBindings, and read, change and delete the two named ones; `bind` the
 *   ClusterRoles `edit` and `<project>:developer-extensions`. Nothing else: no Secrets, no nodes, no
 *   cluster roles of their own.
 * - Where: the ValidatingAdmissionPolicy `<project>-developer-namespaces` admits a developer's writes to
 *   namespaces, RoleBindings, ResourceQuotas and LimitRanges only in the namespaces of their own stacks
 *   (`<project>-<person>` and `<project>-<person>-*`), namespaces only with the restricted Pod Security labels
 *   and PERSON_LABEL naming the writer, RoleBindings only of themselves to `edit` or the extensions role,
 *   quotas only as the platform sets them (no scopes) and never deleted by them; Services only of type
 *   ClusterIP without externalIPs (CVE-2020-8554); a TriggerAuthentication's `podIdentity.roleArn` only a role
 *   of their own stacks (KEDA's operator assumes it). ValidatingAdmissionPolicy is GA since Kubernetes 1.30.
 * - Quota: the ValidatingAdmissionPolicy `<project>-developer-quota` admits a pod in a namespace carrying
 *   PERSON_LABEL only while the namespace holds the platform's ResourceQuota (its parameter, by `paramRef`),
 *   so a namespace made without one runs nothing.
 * - Cleanup: the cleanup job's principal (`developerCleanupPrincipalArn`) gets an access entry of its own, with
 *   the group `names.cleanupGroup`: read the directory, read and delete namespaces, and the
 *   ValidatingAdmissionPolicy `<project>-developer-cleanup` lets it delete only namespaces labelled with a
 *   listed person and named as theirs. It is not cluster admin (scripts/developer-stacks/cleanup-plan.ts).
 * - In its namespace, a developer stack binds its developer to `edit` (Deployments, Secrets, Services,
 *   ServiceAccounts, PodDisruptionBudgets; Kubernetes' aggregated role) and to the extensions role: the
 *   custom resources the program registers (KEDA's ScaledObject and TriggerAuthentication, infra/autoscaling.ts;
 *   the Prometheus Operator's ServiceMonitor and PrometheusRule, infra/prometheus.ts) and the namespace's
 *   ResourceQuota and LimitRange (infra/developer-namespace.ts).
 * - What a developer stack reads of the platform: the ConfigMap DEVELOPER_DIRECTORY (non-secret: people,
 *   usernames, the quota, KEDA's location), readable by the group only. Never the platform stack's state.
 *
 * Destroy order. The developer stacks' namespaces are theirs, not the platform's, so no dependency in the
 * platform's state can order them before KEDA, whose operator removes the finalizers of the ScaledObjects and
 * TriggerAuthentications in them: with the operator gone first, each such namespace would stay Terminating and
 * its stack's destroy time out. So the platform guards its own destroy with the directory instead:
 * - the directory depends on KEDA's chart, so `pulumi destroy` deletes it before the chart (pulumi/pulumi
 *   `pkg/resource/deploy/step_generator.go`, `ScheduleDeletes`: a resource goes only after everything that
 *   depends on it; `pkg/resource/graph/dependency_graph.go`, `DependenciesOf`);
 * - it is protected while `developers` lists anyone, and the engine refuses to delete a protected resource,
 *   failing `pulumi destroy` at its preview, naming it, before anything is deleted (`step_generator.go`,
 *   "unable to delete resource ... as it is currently marked for protection").
 * It exists on every created cluster, listing nobody when `developers` is empty, so emptying the list
 * unprotects it with a `pulumi up` (a protected resource the program stops declaring would fail that update
 * instead); the access objects exist only while someone is listed. An administrator destroys the developer
 * stacks (`npm run developer-stacks -- list` shows them), empties `developers`, runs `pulumi up`, and only
 * then can destroy the platform (docs/DEPLOY.md, "Destroying a stack").
 *
 * Sources: EKS user guide "Review access policy permissions" (what AmazonEKSEditPolicy lacks), "Create access
 * entries" (kubernetesGroups), "Set a custom username for EKS access entries"; Kubernetes docs "Using RBAC
 * Authorization" (the `bind` verb, resourceNames, aggregated roles), "Validating Admission Policy".
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { TargetCluster } from "./cluster";
import { type ClusterConfig, type Developer, type DeveloperQuota } from "./config";
import { DEFAULT_KEDA_LOCATION, type KedaLocation } from "./keda";
import { slugify } from "./names";
import { POD_SECURITY_LABELS } from "./namespace";

/** The Kubernetes names a platform and its developer stacks agree on, for one project. */
export interface DeveloperAccessNames {
  /** The project's name as namespaces start with it (infra/names.ts `slugify`). */
  readonly projectSlug: string;
  /** Kubernetes group every developer's access entry carries. */
  readonly group: string;
  /** ClusterRole of the cluster-wide rights, bound to the group. */
  readonly namespacesRole: string;
  /** ClusterRole of the custom resources and quota objects, bound per namespace. */
  readonly extensionsRole: string;
  /** RoleBinding names in each developer namespace: to `edit`, and to the extensions role. */
  readonly editBinding: string;
  readonly extensionsBinding: string;
  /** The ValidatingAdmissionPolicy of developers' writes (and its binding). */
  readonly policy: string;
  /** The ValidatingAdmissionPolicy that admits a pod in a developer namespace only under the platform's quota. */
  readonly quotaPolicy: string;
  /** The cleanup job's Kubernetes group, its ClusterRole, and the ValidatingAdmissionPolicy of its deletes. */
  readonly cleanupGroup: string;
  readonly cleanupRole: string;
  readonly cleanupPolicy: string;
  /** The ResourceQuota and the LimitRange of each developer namespace. */
  readonly quota: string;
  /** The ConfigMap a developer stack reads, in DIRECTORY_NAMESPACE. */
  readonly directory: string;
}

/**
 * The label every developer namespace carries naming its person: the admission policy requires it, equal to
 * the person writing the namespace, and so keeps it from changing; the quota policy and the cleanup job find
 * developer namespaces by it.
 */
export const PERSON_LABEL = "sqs-eks-consumer/developer";

/** Kubernetes' own aggregated role a developer gets in each of their namespaces. */
export const EDIT_CLUSTER_ROLE = "edit";

/** Where the developer directory lives: the namespace Kubernetes sets aside for cluster-wide public data. */
export const DIRECTORY_NAMESPACE = "kube-public";

/** The names, for a project. */
export function developerAccessNames(project: string): DeveloperAccessNames {
  const slug = slugify(project);
  return {
    projectSlug: slug,
    group: `${slug}:developers`,
    namespacesRole: `${slug}:developer-namespaces`,
    extensionsRole: `${slug}:developer-extensions`,
    editBinding: `${slug}-developer-edit`,
    extensionsBinding: `${slug}-developer-extensions`,
    policy: `${slug}-developer-namespaces`,
    quotaPolicy: `${slug}-developer-quota`,
    cleanupGroup: `${slug}:developer-cleanup`,
    cleanupRole: `${slug}:developer-cleanup`,
    cleanupPolicy: `${slug}-developer-cleanup`,
    quota: `${slug}-developer`,
    directory: `${slug}-developers`,
  };
}

/** The Kubernetes username EKS gives a developer's requests (or, for a shared role, the template it renders). */
export function usernameTemplate(names: DeveloperAccessNames, developer: Developer): string {
  return developer.sessionName === undefined
    ? `${names.projectSlug}:developer:${developer.person}`
    : `${names.projectSlug}:session:{{SessionNameRaw}}`;
}

/** The username a developer's requests carry once EKS has rendered the template. */
export function kubernetesUsername(names: DeveloperAccessNames, developer: Developer): string {
  return developer.sessionName === undefined
    ? usernameTemplate(names, developer)
    : `${names.projectSlug}:session:${developer.sessionName}`;
}

/** One access entry of eks.Cluster's `accessEntries`, for a developer's principal: groups and username, no access policy. */
export interface DeveloperAccessEntry {
  readonly principalArn: string;
  readonly kubernetesGroups: string[];
  readonly username: string;
}

/**
 * The developers' access entries, one per principal (EKS allows one), keyed `developer-<hash of the principal>`
 * so that reordering the list changes nothing; and, given the cleanup job's principal, its entry
 * (`developer-cleanup`): the username `<project>:developer-cleanup` and the group `names.cleanupGroup`, no
 * access policy.
 */
export function developerAccessEntries(
  names: DeveloperAccessNames,
  developers: readonly Developer[],
  cleanupPrincipalArn?: string,
): Record<string, DeveloperAccessEntry> {
  const entries: Record<string, DeveloperAccessEntry> = {};
  if (cleanupPrincipalArn !== undefined && developers.length > 0) {
    entries["developer-cleanup"] = {
      principalArn: cleanupPrincipalArn,
      kubernetesGroups: [names.cleanupGroup],
      username: names.cleanupRole,
    };
  }
  for (const developer of developers) {
    entries[`developer-${shortHash(developer.principalArn)}`] = {
      principalArn: developer.principalArn,
      kubernetesGroups: [names.group],
      username: usernameTemplate(names, developer),
    };
  }
  return entries;
}

/** One RBAC rule, as Kubernetes writes it. */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

const READ = ["get", "list", "watch"];
const WRITE = ["create", "patch", "update", "delete"];

/**
 * The cluster-wide rights of every developer: namespaces, RoleBindings (only the two named ones beyond
 * create, which RBAC cannot limit by name), and `bind` on the two roles they may grant themselves. The
 * admission policy narrows every write to the developer's own namespaces.
 */
export function namespacesRoleRules(names: DeveloperAccessNames): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["namespaces"], verbs: [...READ, ...WRITE] },
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"] },
    {
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["rolebindings"],
      verbs: [...READ, "patch", "update", "delete"],
      resourceNames: [names.editBinding, names.extensionsBinding],
    },
    {
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["clusterroles"],
      verbs: ["bind"],
      resourceNames: [EDIT_CLUSTER_ROLE, names.extensionsRole],
    },
  ];
}

/**
 * The cleanup job's rights (ClusterRole `names.cleanupRole`, bound to its group): read and delete namespaces,
 * which its admission policy narrows to developer namespaces; and, through the directory's RoleBinding, read
 * the directory. Deleting a namespace deletes everything in it (the namespace controller), so no other right
 * is needed.
 */
export function cleanupRoleRules(): PolicyRule[] {
  return [{ apiGroups: [""], resources: ["namespaces"], verbs: [...READ, "delete"] }];
}

/**
 * The custom resources a developer stack registers, by API group: what `edit` does not cover. KEDA's
 * (infra/autoscaling.ts) and the Prometheus Operator's (infra/prometheus.ts).
 */
export const DEVELOPER_CUSTOM_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  "keda.sh": ["scaledobjects", "triggerauthentications"],
  "monitoring.coreos.com": ["servicemonitors", "prometheusrules"],
};

/**
 * The rules a developer holds in their own namespaces besides `edit`: the custom resources, and writing (not
 * deleting) the namespace's ResourceQuota and LimitRange, which the admission policy pins to the platform's values.
 */
export function extensionsRoleRules(): PolicyRule[] {
  return [
    ...Object.entries(DEVELOPER_CUSTOM_RESOURCES).map(([group, resources]) => ({
      apiGroups: [group],
      resources: [...resources],
      verbs: [...READ, ...WRITE],
    })),
    { apiGroups: [""], resources: ["resourcequotas", "limitranges"], verbs: ["create", "patch", "update"] },
  ];
}

/** A Kubernetes quantity in canonical form, as the API server stores it: `500m`, `2`; `1536Mi`, `2Gi`. */
export function cpuQuantity(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** Memory in canonical form (binary suffixes, the largest that keeps a whole number). */
export function memoryQuantity(mebibytes: number): string {
  return mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`;
}

/** Per container, when a pod leaves them out: what a LimitRange fills in. Small: the quota counts them. */
const CONTAINER_DEFAULTS = { cpuMillicores: 100, memoryMiB: 128 } as const;

/** One LimitRange item, quantities in canonical form. */
export interface LimitRangeItem {
  readonly type: "Container";
  readonly default: Record<string, string>;
  readonly defaultRequest: Record<string, string>;
  readonly max: Record<string, string>;
}

/** The ResourceQuota spec of every developer namespace. */
export function developerQuotaSpec(quota: DeveloperQuota): { hard: Record<string, string> } {
  return {
    hard: {
      pods: String(quota.pods),
      "requests.cpu": cpuQuantity(quota.cpuMillicores),
      "requests.memory": memoryQuantity(quota.memoryMiB),
      "limits.memory": memoryQuantity(quota.memoryMiB),
    },
  };
}

/**
 * The LimitRange spec of every developer namespace: a container may take at most the namespace's quota, and
 * one that sets no requests or limits gets small ones (so the quota, which counts requests and memory
 * limits, admits it).
 */
export function developerLimitRangeSpec(quota: DeveloperQuota): { limits: LimitRangeItem[] } {
  const defaults = {
    cpu: cpuQuantity(CONTAINER_DEFAULTS.cpuMillicores),
    memory: memoryQuantity(CONTAINER_DEFAULTS.memoryMiB),
  };
  return {
    limits: [
      {
        type: "Container",
        default: defaults,
        defaultRequest: defaults,
        max: { cpu: cpuQuantity(quota.cpuMillicores), memory: memoryQuantity(quota.memoryMiB) },
      },
    ],
  };
}

/** What a developer stack reads from the platform (the ConfigMap DIRECTORY_NAMESPACE/`names.directory`). */
export interface DeveloperDirectory {
  readonly names: DeveloperAccessNames;
  /** Every person, their principal and session, and the username their requests carry. */
  readonly developers: readonly (Developer & { readonly username: string })[];
  readonly quota: DeveloperQuota;
  /** Where the cluster's KEDA runs (infra/keda.ts). */
  readonly keda: KedaLocation;
}

/** The ConfigMap key holding the directory as JSON. */
export const DIRECTORY_KEY = "directory.json";

/** The directory of a platform's developers. */
export function developerDirectory(
  names: DeveloperAccessNames,
  developers: readonly Developer[],
  quota: DeveloperQuota,
): DeveloperDirectory {
  return {
    names,
    developers: developers.map((developer) => ({ ...developer, username: kubernetesUsername(names, developer) })),
    quota,
    keda: DEFAULT_KEDA_LOCATION,
  };
}

/** A CEL string literal. */
function celString(text: string): string {
  return JSON.stringify(text);
}

/** A CEL literal of a JSON value (maps, lists, strings): the same text. */
function celValue(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * The ValidatingAdmissionPolicy's spec. Its expressions use standard CEL only (no Kubernetes CEL libraries),
 * and see a request as the API server presents it: `request` (operation, name, namespace, resource,
 * userInfo), `object` (null on DELETE), `oldObject`, `variables`.
 */
export function developerAdmissionPolicySpec(
  names: DeveloperAccessNames,
  developers: readonly Developer[],
  quota: DeveloperQuota,
): Record<string, unknown> {
  const people = Object.fromEntries(developers.map((d) => [kubernetesUsername(names, d), d.person]));
  const restricted = Object.entries(POD_SECURITY_LABELS)
    .map(([label, value]) => `object.metadata.labels[${celString(label)}] == ${celString(value)}`)
    .join(" && ");
  const labelsPresent = Object.keys(POD_SECURITY_LABELS)
    .map((label) => `${celString(label)} in object.metadata.labels`)
    .join(" && ");
  const prefix = celString(`${names.projectSlug}-`);
  const roleArn = `^arn:aws[a-z-]*:iam::[0-9]{12}:role/(.*/)?${names.projectSlug}-`;
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          resources: ["namespaces", "resourcequotas", "limitranges"],
          operations: ["CREATE", "UPDATE", "DELETE"],
        },
        { apiGroups: [""], apiVersions: ["v1"], resources: ["services"], operations: ["CREATE", "UPDATE"] },
        {
          apiGroups: ["keda.sh"],
          apiVersions: ["v1alpha1"],
          resources: ["triggerauthentications"],
          operations: ["CREATE", "UPDATE"],
        },
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          apiVersions: ["v1"],
          resources: ["rolebindings"],
          operations: ["CREATE", "UPDATE", "DELETE"],
        },
      ],
    },
    matchConditions: [{ name: "developers", expression: `${celString(names.group)} in request.userInfo.groups` }],
    variables: [
      { name: "people", expression: celValue(people) },
      {
        name: "person",
        expression: "request.userInfo.username in variables.people ? variables.people[request.userInfo.username] : ''",
      },
      {
        name: "target",
        expression: "request.resource.resource == 'namespaces' ? request.name : request.namespace",
      },
      {
        name: "owned",
        expression: `variables.person != '' && (variables.target == ${prefix} + variables.person || variables.target.startsWith(${prefix} + variables.person + '-'))`,
      },
    ],
    validations: [
      {
        expression: "variables.owned",
        message: `a developer may change only the namespaces of their own stacks: ${names.projectSlug}-<person> and ${names.projectSlug}-<person>-*`,
        reason: "Forbidden",
      },
      {
        expression: `request.resource.resource != 'namespaces' || request.operation == 'DELETE' || (has(object.metadata.labels) && ${labelsPresent} && ${restricted})`,
        message: "a developer namespace must keep the restricted Pod Security labels",
        reason: "Forbidden",
      },
      {
        expression: `request.resource.resource != 'namespaces' || request.operation == 'DELETE' || (has(object.metadata.labels) && ${celString(PERSON_LABEL)} in object.metadata.labels && object.metadata.labels[${celString(PERSON_LABEL)}] == variables.person)`,
        message: `a developer namespace carries ${PERSON_LABEL}=<its person>, set at creation and never changed`,
        reason: "Forbidden",
      },
      {
        // CVE-2020-8554: a Service's externalIPs can take over another's traffic; LoadBalancer and NodePort
        // open the cluster beyond itself. A developer stack needs ClusterIP only (infra/prometheus.ts).
        expression:
          "request.resource.resource != 'services' || ((!has(object.spec.type) || object.spec.type == 'ClusterIP') && " +
          "(!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0))",
        message: "a developer's Service is of type ClusterIP, with no externalIPs",
        reason: "Forbidden",
      },
      {
        // KEDA's operator assumes the role a TriggerAuthentication names: only the person's own stacks' roles.
        expression:
          "request.resource.resource != 'triggerauthentications' || !has(object.spec.podIdentity) || " +
          "!has(object.spec.podIdentity.roleArn) || " +
          `object.spec.podIdentity.roleArn.matches(${celString(roleArn)} + variables.person + '(-[a-z0-9-]*)?$')`,
        message: `a TriggerAuthentication's podIdentity.roleArn is one of its person's stacks' roles (${names.projectSlug}-<person>-*)`,
        reason: "Forbidden",
      },
      {
        expression:
          `request.resource.resource != 'rolebindings' || request.operation == 'DELETE' || (` +
          `object.roleRef.kind == 'ClusterRole' && ` +
          `((object.metadata.name == ${celString(names.editBinding)} && object.roleRef.name == ${celString(EDIT_CLUSTER_ROLE)}) || ` +
          `(object.metadata.name == ${celString(names.extensionsBinding)} && object.roleRef.name == ${celString(names.extensionsRole)})) && ` +
          `has(object.subjects) && size(object.subjects) == 1 && object.subjects[0].kind == 'User' && ` +
          `object.subjects[0].name == request.userInfo.username)`,
        message: `a developer may bind only themselves, to ${EDIT_CLUSTER_ROLE} (${names.editBinding}) or ${names.extensionsRole} (${names.extensionsBinding})`,
        reason: "Forbidden",
      },
      {
        expression:
          `request.resource.resource != 'resourcequotas' || (request.operation != 'DELETE' && ` +
          `object.metadata.name == ${celString(names.quota)} && has(object.spec.hard) && ` +
          `object.spec.hard == ${celValue(developerQuotaSpec(quota).hard)} && ` +
          "!has(object.spec.scopes) && !has(object.spec.scopeSelector))",
        message: `a developer namespace's ResourceQuota is ${names.quota} with the platform's values and no scopes, and stays until the namespace goes`,
        reason: "Forbidden",
      },
      {
        expression:
          `request.resource.resource != 'limitranges' || (request.operation != 'DELETE' && ` +
          `object.metadata.name == ${celString(names.quota)} && has(object.spec.limits) && ` +
          `object.spec.limits == ${celValue(developerLimitRangeSpec(quota).limits)})`,
        message: `a developer namespace's LimitRange is ${names.quota} with the platform's values, and stays until the namespace goes`,
        reason: "Forbidden",
      },
    ],
  };
}

/**
 * The ValidatingAdmissionPolicy that makes the quota unavoidable: a pod is created in a developer namespace
 * (one carrying PERSON_LABEL), by anyone (a Deployment's pods are created by the ReplicaSet controller), only
 * when the namespace holds the ResourceQuota `names.quota` with the platform's values and no scopes. Its
 * binding names that quota as the parameter, looked up in the request's namespace, with
 * `parameterNotFoundAction: Deny` (Kubernetes docs, "Validating Admission Policy", "Parameter resources").
 */
export function developerQuotaPolicySpec(names: DeveloperAccessNames, quota: DeveloperQuota): Record<string, unknown> {
  return {
    failurePolicy: "Fail",
    paramKind: { apiVersion: "v1", kind: "ResourceQuota" },
    matchConstraints: {
      namespaceSelector: { matchExpressions: [{ key: PERSON_LABEL, operator: "Exists" }] },
      resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"] }],
    },
    validations: [
      {
        expression:
          `has(params.spec.hard) && params.spec.hard == ${celValue(developerQuotaSpec(quota).hard)} && ` +
          "!has(params.spec.scopes) && !has(params.spec.scopeSelector)",
        message: `a pod in a developer namespace needs the namespace's ResourceQuota ${names.quota}, as the platform sets it`,
        reason: "Forbidden",
      },
    ],
  };
}

/** The quota policy's binding: the parameter is the ResourceQuota `names.quota` of the pod's namespace. */
export function developerQuotaPolicyBindingSpec(names: DeveloperAccessNames): {
  policyName: string;
  validationActions: string[];
  paramRef: { name: string; parameterNotFoundAction: string };
} {
  return {
    policyName: names.quotaPolicy,
    validationActions: ["Deny"],
    paramRef: { name: names.quota, parameterNotFoundAction: "Deny" },
  };
}

/**
 * The ValidatingAdmissionPolicy of the cleanup job's deletes: a namespace only when it carries PERSON_LABEL
 * naming a listed person and its name is one of that person's (`<project>-<person>[-*]`).
 */
export function developerCleanupPolicySpec(
  names: DeveloperAccessNames,
  developers: readonly Developer[],
): Record<string, unknown> {
  const people = developers.map((d) => d.person);
  const label = celString(PERSON_LABEL);
  const prefix = celString(`${names.projectSlug}-`);
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["CREATE", "UPDATE", "DELETE"] },
      ],
    },
    matchConditions: [{ name: "cleanup", expression: `${celString(names.cleanupGroup)} in request.userInfo.groups` }],
    validations: [
      {
        expression:
          `request.operation == 'DELETE' && has(oldObject.metadata.labels) && ${label} in oldObject.metadata.labels && ` +
          `oldObject.metadata.labels[${label}] in ${celValue(people)} && ` +
          `(request.name == ${prefix} + oldObject.metadata.labels[${label}] || ` +
          `request.name.startsWith(${prefix} + oldObject.metadata.labels[${label}] + '-'))`,
        message: `the cleanup job deletes only developer namespaces: ${names.projectSlug}-<person>[-*] labelled ${PERSON_LABEL}=<person>`,
        reason: "Forbidden",
      },
    ],
  };
}

export interface DeveloperAccessArgs {
  /** The people who may run developer stacks (infra/config/developers.ts); empty: the directory alone, unprotected. */
  readonly developers: readonly Developer[];
  /** What each developer stack's namespace may use. */
  readonly quota: DeveloperQuota;
  /** The cleanup job's principal (its access entry is eks.Cluster's); undefined: no cleanup job. */
  readonly cleanupPrincipalArn: string | undefined;
  /** The running project's name. */
  readonly project: string;
  /** Kubernetes provider of the created cluster. */
  readonly provider: k8s.Provider;
  /** KEDA's chart on the created cluster: the directory depends on it, so destroy reaches the directory first. */
  readonly kedaChart: pulumi.Resource;
}

/**
 * The platform's side of developer stacks, as Kubernetes objects on the created cluster: the directory,
 * protected while it lists anyone and ordered after KEDA's chart (see the module docs), and, while
 * `developers` lists anyone, the two ClusterRoles, the ClusterRoleBinding of the group, the admission policy
 * and the quota policy with their bindings, and the Role and RoleBinding that let the group read the
 * directory; with a cleanup principal, its ClusterRole, binding and admission policy too. Access entries are
 * eks.Cluster's (`developerAccessEntries`).
 */
export class DeveloperAccess extends pulumi.ComponentResource {
  /** The names developer stacks use. */
  readonly names: DeveloperAccessNames;

  constructor(name: string, args: DeveloperAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:developer-access:DeveloperAccess", name, {}, opts);
    const names = developerAccessNames(args.project);
    const childOpts = { parent: this, provider: args.provider };
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": names.projectSlug };
    const listed = args.developers.length > 0;

    const directory = new k8s.core.v1.ConfigMap(
      `${name}-directory`,
      {
        metadata: { name: names.directory, namespace: DIRECTORY_NAMESPACE, labels },
        data: { [DIRECTORY_KEY]: JSON.stringify(developerDirectory(names, args.developers, args.quota)) },
      },
      { ...childOpts, dependsOn: [args.kedaChart], protect: listed },
    );
    this.names = names;
    if (!listed) {
      this.registerOutputs({ names });
      return;
    }

    const group = { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: names.group };

    const namespacesRole = new k8s.rbac.v1.ClusterRole(
      `${name}-namespaces-role`,
      { metadata: { name: names.namespacesRole, labels }, rules: namespacesRoleRules(names) },
      childOpts,
    );
    new k8s.rbac.v1.ClusterRole(
      `${name}-extensions-role`,
      { metadata: { name: names.extensionsRole, labels }, rules: extensionsRoleRules() },
      childOpts,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-namespaces-binding`,
      {
        metadata: { name: names.namespacesRole, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: namespacesRole.metadata.name },
        subjects: [group],
      },
      childOpts,
    );

    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-policy`,
      {
        metadata: { name: names.policy, labels },
        spec: developerAdmissionPolicySpec(names, args.developers, args.quota),
      },
      childOpts,
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      `${name}-policy-binding`,
      {
        metadata: { name: names.policy, labels },
        spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
      },
      childOpts,
    );
    const quotaPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-quota-policy`,
      { metadata: { name: names.quotaPolicy, labels }, spec: developerQuotaPolicySpec(names, args.quota) },
      childOpts,
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      `${name}-quota-policy-binding`,
      { metadata: { name: names.quotaPolicy, labels }, spec: developerQuotaPolicyBindingSpec(names) },
      { ...childOpts, dependsOn: [quotaPolicy] },
    );
    const readers = [group];
    if (args.cleanupPrincipalArn !== undefined) {
      const cleanupGroup = { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: names.cleanupGroup };
      readers.push(cleanupGroup);
      const cleanupRole = new k8s.rbac.v1.ClusterRole(
        `${name}-cleanup-role`,
        { metadata: { name: names.cleanupRole, labels }, rules: cleanupRoleRules() },
        childOpts,
      );
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-cleanup-binding`,
        {
          metadata: { name: names.cleanupRole, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: cleanupRole.metadata.name },
          subjects: [cleanupGroup],
        },
        childOpts,
      );
      const cleanupPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-cleanup-policy`,
        { metadata: { name: names.cleanupPolicy, labels }, spec: developerCleanupPolicySpec(names, args.developers) },
        childOpts,
      );
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-cleanup-policy-binding`,
        {
          metadata: { name: names.cleanupPolicy, labels },
          spec: { policyName: cleanupPolicy.metadata.name, validationActions: ["Deny"] },
        },
        childOpts,
      );
    }

    const reader = new k8s.rbac.v1.Role(
      `${name}-directory-reader`,
      {
        metadata: { name: names.directory, namespace: DIRECTORY_NAMESPACE, labels },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: [names.directory] }],
      },
      childOpts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-directory-readers`,
      {
        metadata: { name: names.directory, namespace: DIRECTORY_NAMESPACE, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reader.metadata.name },
        subjects: readers,
      },
      { ...childOpts, dependsOn: [directory] },
    );
    this.registerOutputs({ names });
  }
}

/**
 * The platform's side of developer stacks as the component `name`, for a cluster this stack creates (whose
 * KEDA chart `kedaChart` is); undefined otherwise. With no developers listed it holds the unprotected
 * directory alone, and no developer may run a stack on the cluster.
 */
export function clusterDeveloperAccess(
  name: string,
  args: {
    readonly cluster: TargetCluster;
    readonly config: ClusterConfig;
    readonly project: string;
    readonly kedaChart: pulumi.Resource | undefined;
  },
): DeveloperAccess | undefined {
  const { cluster, config, kedaChart } = args;
  if (config.mode !== "create") return undefined;
  if (kedaChart === undefined) throw new Error("a created cluster has KEDA installed: pass its chart");
  return new DeveloperAccess(name, {
    developers: config.developers,
    quota: config.developerQuota,
    cleanupPrincipalArn: config.developerCleanupPrincipalArn,
    project: args.project,
    provider: cluster.provider,
    kedaChart,
  });
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}
