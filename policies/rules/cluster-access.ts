/**
 * Who reaches the cluster and what they may do there: the API endpoint's public CIDRs
 * (cluster-endpoint-restricted), EKS access entries and their access policy associations
 * (cluster-access-scoped), Kubernetes RBAC (rbac-least-privilege) and validating admission policies
 * (admission-policy-enforced).
 * Sources: EKS user guide "Cluster API server endpoint" (public access is open to 0.0.0.0/0 unless
 * publicAccessCidrs says otherwise), "Associate access policies with access entries" and "Review access
 * policy permissions" (what each AmazonEKS*Policy maps to), Kubernetes docs "Using RBAC Authorization"
 * (escalate, bind, impersonate), "RBAC good practices" (secrets, pods/exec, serviceaccounts/token,
 * nodes/proxy, wildcards) and "Validating Admission Policy" (validationActions, failurePolicy).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { admitsInternet, parseCidr } from "../lib/cidr";
import { parsePolicyDocument } from "../lib/iam-document";
import { ofType, type StackResource } from "../lib/stack";
import { AWS, EKS, kindOf } from "../lib/types";
import { renderedByChart } from "./images";
import { selects } from "./kubernetes";
import { Decisions } from "../lib/undecided";
import { isRecord, listOf, materialize, pathOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

/** A /16: the most public addresses an endpoint may admit by default (an office or a VPN range, not the internet). */
export const DEFAULT_MAX_PUBLIC_ADDRESSES = 65_536;

/** How many addresses an IPv4 CIDR covers, or undefined when it is not one (lib/cidr.ts counts both families). */
export function addressesIn(cidr: string): number | undefined {
  const range = parseCidr(cidr);
  return range?.family === 4 ? Number(range.end - range.start) : undefined;
}

/** The endpoint's public access of a cluster resource: whether it is on, and its CIDRs (undefined: AWS's default). */
function publicEndpoint(resource: StackResource): { enabled: boolean; cidrs: string[] | undefined } | undefined {
  const props = materialize(resource.props) as Props;
  const block =
    resource.type === AWS.eksCluster ? recordOf(props["vpcConfig"]) : resource.type === EKS.cluster ? props : undefined;
  if (block === undefined) return undefined;
  // Both the provider and @pulumi/eks default endpointPublicAccess to true, and EKS then admits 0.0.0.0/0.
  const enabled = block["endpointPublicAccess"] !== false;
  const cidrs = block["publicAccessCidrs"] === undefined ? undefined : stringsOf(block["publicAccessCidrs"]);
  return { enabled, cidrs };
}

export const clusterEndpointRestricted: StackValidationPolicy = {
  name: "cluster-endpoint-restricted",
  description:
    "A cluster's public API endpoint is off, or admits only listed IPv4 CIDRs covering at most maxPublicAddresses addresses (never 0.0.0.0/0, which EKS uses when none are listed).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxPublicAddresses: {
        type: "integer",
        minimum: 1,
        default: DEFAULT_MAX_PUBLIC_ADDRESSES,
        description: "The most public IPv4 addresses the endpoint's CIDRs may cover together.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { maxPublicAddresses } = configWithDefaults(args, { maxPublicAddresses: DEFAULT_MAX_PUBLIC_ADDRESSES });
    const decisions = new Decisions();
    for (const cluster of [...ofType(args.resources, EKS.cluster), ...ofType(args.resources, AWS.eksCluster)]) {
      const label = `${kindOf(cluster.type)} "${cluster.name}"`;
      decisions.decide(label, () => {
        const endpoint = publicEndpoint(cluster);
        if (endpoint === undefined || !endpoint.enabled) return;
        if (endpoint.cidrs === undefined || endpoint.cidrs.length === 0) {
          reportViolation(
            `${label}: the API endpoint is public and lists no publicAccessCidrs, so EKS admits 0.0.0.0/0; list the CIDRs that need it, or set endpointPublicAccess: false.`,
            cluster.urn,
          );
          return;
        }
        let total = 0;
        for (const cidr of endpoint.cidrs) {
          const count = addressesIn(cidr);
          if (count === undefined) {
            reportViolation(`${label}: publicAccessCidrs entry "${cidr}" is not an IPv4 CIDR.`, cluster.urn);
            continue;
          }
          total += count;
        }
        if (total > maxPublicAddresses) {
          reportViolation(
            `${label}: publicAccessCidrs (${endpoint.cidrs.join(", ")}) admit ${total} addresses to the API endpoint, more than ${maxPublicAddresses}; list only the networks that run kubectl or pulumi, or make the endpoint private.`,
            cluster.urn,
          );
        }
      });
    }
    decisions.settle();
  },
};

/** Access policies that may apply to the whole cluster: full admin (deliberate), read-only without Secrets, Auto Mode nodes. */
export const DEFAULT_CLUSTER_WIDE_ACCESS_POLICIES = [
  "AmazonEKSClusterAdminPolicy",
  "AmazonEKSViewPolicy",
  "AmazonEKSAutoNodePolicy",
];

/** Access policies that neither write nor read Secrets (AmazonEKSAdminViewPolicy reads Secrets). */
const READ_ONLY_POLICIES = ["AmazonEKSViewPolicy"];

const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];

/** One access policy association, wherever it is declared. */
interface Association {
  readonly where: string;
  readonly urn: string;
  readonly principalArn: string;
  readonly policyArn: string;
  readonly scope: Props;
}

function associations(resources: readonly StackResource[]): { list: Association[]; groups: Association[] } {
  const list: Association[] = [];
  const groups: Association[] = [];
  for (const cluster of ofType(resources, EKS.cluster)) {
    for (const [key, raw] of Object.entries(recordOf(materialize(cluster.props["accessEntries"])))) {
      const entry = recordOf(raw);
      const principalArn = stringOf(entry["principalArn"]) ?? key;
      for (const [name, policy] of Object.entries(recordOf(entry["accessPolicies"]))) {
        list.push({
          where: `Cluster "${cluster.name}" accessEntries.${key}.accessPolicies.${name}`,
          urn: cluster.urn,
          principalArn,
          policyArn: stringOf(recordOf(policy)["policyArn"]) ?? "",
          scope: recordOf(recordOf(policy)["accessScope"]),
        });
      }
      for (const group of stringsOf(entry["kubernetesGroups"]))
        groups.push({
          where: `Cluster "${cluster.name}" accessEntries.${key}.kubernetesGroups`,
          urn: cluster.urn,
          principalArn,
          policyArn: group,
          scope: {},
        });
    }
  }
  for (const association of ofType(resources, AWS.eksAccessPolicyAssociation)) {
    const props = materialize(association.props) as Props;
    list.push({
      where: `AccessPolicyAssociation "${association.name}"`,
      urn: association.urn,
      principalArn: stringOf(props["principalArn"]) ?? "",
      policyArn: stringOf(props["policyArn"]) ?? "",
      scope: recordOf(props["accessScope"]),
    });
  }
  for (const entry of ofType(resources, AWS.eksAccessEntry)) {
    const props = materialize(entry.props) as Props;
    for (const group of stringsOf(props["kubernetesGroups"]))
      groups.push({
        where: `AccessEntry "${entry.name}" kubernetesGroups`,
        urn: entry.urn,
        principalArn: stringOf(props["principalArn"]) ?? "",
        policyArn: group,
        scope: {},
      });
  }
  return { list, groups };
}

/**
 * Namespaces where write access amounts to a workload's IAM role or to the cluster: the system namespaces,
 * and every namespace in which this stack binds a service account to a role (annotations, Pod Identity
 * associations, role trust subjects) or installs a chart (KEDA's operator runs there with its role).
 */
export function identityNamespaces(resources: readonly StackResource[]): Set<string> {
  const namespaces = new Set(SYSTEM_NAMESPACES);
  for (const r of resources) {
    const props = materialize(r.props) as Props;
    if (r.type === "kubernetes:core/v1:ServiceAccount") {
      const annotations = recordOf(pathOf(props, "metadata", "annotations"));
      const namespace = stringOf(pathOf(props, "metadata", "namespace"));
      if (annotations["eks.amazonaws.com/role-arn"] !== undefined && namespace !== undefined) namespaces.add(namespace);
    }
    if (r.type === AWS.podIdentityAssociation) {
      const namespace = stringOf(props["namespace"]);
      if (namespace !== undefined) namespaces.add(namespace);
    }
    if (/^kubernetes:helm\.sh\/v\d+:(Chart|Release)$/.test(r.type)) {
      const namespace = stringOf(props["namespace"]);
      if (namespace !== undefined) namespaces.add(namespace);
    }
    if (r.type === AWS.role) {
      const trust = parsePolicyDocument(props["assumeRolePolicy"]);
      if (!trust.ok) continue;
      for (const statement of trust.value) {
        for (const block of Object.values(statement.condition)) {
          for (const [key, value] of Object.entries(recordOf(block))) {
            for (const v of listOf(value).map(String)) {
              const sub = /^system:serviceaccount:([^:]+):/.exec(v)?.[1];
              if (key.toLowerCase().endsWith(":sub") && sub !== undefined) namespaces.add(sub);
              if (key.toLowerCase() === "aws:requesttag/kubernetes-namespace") namespaces.add(v);
            }
          }
        }
      }
    }
  }
  return namespaces;
}

function policyName(policyArn: string): string {
  return policyArn.slice(policyArn.lastIndexOf("/") + 1);
}

function namespaceMatches(pattern: string, namespace: string): boolean {
  if (!pattern.includes("*")) return pattern === namespace;
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(namespace);
}

export const clusterAccessScoped: StackValidationPolicy = {
  name: "cluster-access-scoped",
  description:
    "EKS access policies apply to the whole cluster only when listed (admin, view, Auto Mode nodes); namespace-scoped ones name namespaces outright, never a system namespace or one where this stack's workloads hold IAM roles; no access entry joins system:masters.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      clusterWidePolicies: {
        type: "array",
        items: { type: "string", minLength: 1 },
        default: DEFAULT_CLUSTER_WIDE_ACCESS_POLICIES,
        description: "Names of the EKS access policies that may be associated with cluster scope.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { clusterWidePolicies } = configWithDefaults(args, {
      clusterWidePolicies: DEFAULT_CLUSTER_WIDE_ACCESS_POLICIES,
    });
    const decisions = new Decisions();
    decisions.decide("access entries", () => {
      const { list, groups } = associations(args.resources);
      const protectedNamespaces = identityNamespaces(args.resources);
      for (const a of list) {
        const name = policyName(a.policyArn);
        const type = stringOf(a.scope["type"]);
        if (type === "cluster") {
          if (!clusterWidePolicies.includes(name))
            reportViolation(
              `${a.where}: ${name} for ${a.principalArn} applies to the whole cluster, so it reaches every namespace's Secrets and service accounts (and their IAM roles); scope it to the principal's namespaces (accessScope type "namespace").`,
              a.urn,
            );
          continue;
        }
        if (type !== "namespace") {
          reportViolation(
            `${a.where}: accessScope type is ${JSON.stringify(type)}; use "namespace" with namespaces.`,
            a.urn,
          );
          continue;
        }
        const namespaces = stringsOf(a.scope["namespaces"]);
        if (namespaces.length === 0)
          reportViolation(`${a.where}: accessScope type "namespace" lists no namespaces.`, a.urn);
        // Read-only without Secrets: it cannot create a pod, so it cannot act as the namespace's service accounts.
        if (READ_ONLY_POLICIES.includes(name)) continue;
        for (const pattern of namespaces) {
          const hit = [...protectedNamespaces].filter((ns) => namespaceMatches(pattern, ns));
          if (hit.length > 0)
            reportViolation(
              `${a.where}: ${name} for ${a.principalArn} reaches namespace ${hit.map((ns) => `"${ns}"`).join(", ")}, where this stack's workloads (or the cluster's own) run with IAM roles or system rights; whoever can create pods there can act as them. Scope it to the principal's own namespaces.`,
              a.urn,
            );
        }
      }
      for (const g of groups) {
        if (g.policyArn.toLowerCase() === "system:masters")
          reportViolation(
            `${g.where}: ${g.principalArn} joins "system:masters", which bypasses RBAC and cannot be revoked by it; associate an access policy or a group bound by RBAC instead.`,
            g.urn,
          );
      }
    });
    decisions.settle();
  },
};

const RBAC_ROLE = /^kubernetes:rbac\.authorization\.k8s\.io\/[^:]+:(ClusterRole|Role)(Patch)?$/;
const RBAC_BINDING = /^kubernetes:rbac\.authorization\.k8s\.io\/[^:]+:(ClusterRoleBinding|RoleBinding)(Patch)?$/;
/** Groups that are everyone of a kind; `system:serviceaccounts:<namespace>` is every service account of one namespace. */
const BROAD_GROUPS = ["system:anonymous", "system:unauthenticated", "system:authenticated", "system:serviceaccounts"];
const NAMESPACE_SERVICE_ACCOUNTS = /^system:serviceaccounts:[^:]+$/;
/** The label a developer's own namespace carries (infra/developer-namespace.ts): the person bound there owns its workloads. */
const DEVELOPER_NAMESPACE_LABEL = "sqs-eks-consumer/developer";

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"];
/** Objects whose creation (or whose template's change) runs a pod as any service account of the namespace. */
const POD_RUNNING_RESOURCES = [
  "pods",
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "jobs",
  "cronjobs",
  "replicationcontrollers",
  "scaledjobs",
];
/** Admission objects: writing one removes or rewrites the checks on every other write. */
const ADMISSION_RESOURCES = [
  "validatingadmissionpolicies",
  "validatingadmissionpolicybindings",
  "mutatingadmissionpolicies",
  "mutatingadmissionpolicybindings",
  "validatingwebhookconfigurations",
  "mutatingwebhookconfigurations",
];

/**
 * What the well-known ClusterRoles grant, in rules (Kubernetes docs "Using RBAC Authorization", "User-facing
 * roles"): `cluster-admin` everything; `admin` and `edit` create and change pods and workloads, read and write
 * Secrets and exec into pods in the namespaces they are bound in; `view` reads everything but Secrets.
 */
const BUILT_IN_ROLES: Readonly<Record<string, readonly Props[]>> = {
  "cluster-admin": [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
  admin: [
    { apiGroups: ["", "apps", "batch"], resources: [...POD_RUNNING_RESOURCES, "secrets"], verbs: ["create", "patch"] },
    { apiGroups: [""], resources: ["pods/exec", "pods/attach"], verbs: ["create"] },
  ],
  edit: [
    { apiGroups: ["", "apps", "batch"], resources: [...POD_RUNNING_RESOURCES, "secrets"], verbs: ["create", "patch"] },
    { apiGroups: [""], resources: ["pods/exec", "pods/attach"], verbs: ["create"] },
  ],
  view: [],
};

interface RuleGrant {
  readonly verbs: readonly string[];
  readonly resources: readonly string[];
  readonly groups: readonly string[];
  readonly named: boolean;
  has(...verbs: string[]): boolean;
  on(...resources: string[]): boolean;
}

function grantOf(rule: Props): RuleGrant {
  const verbs = stringsOf(rule["verbs"]).map((v) => v.toLowerCase());
  const resources = stringsOf(rule["resources"]).map((r) => r.toLowerCase());
  return {
    verbs,
    resources,
    groups: stringsOf(rule["apiGroups"]),
    named: stringsOf(rule["resourceNames"]).length > 0,
    has: (...wanted) => verbs.includes("*") || wanted.some((v) => verbs.includes(v)),
    on: (...wanted) => resources.includes("*") || wanted.some((r) => resources.includes(r)),
  };
}

const ADMISSION_WRITE = "writes admission policies or webhooks";

/** What one RBAC rule grants that amounts to more than its words, wherever it is bound. */
function ruleProblems(rule: Props, clusterWide: boolean): string[] {
  const g = grantOf(rule);
  const problems: string[] = [];
  if (g.verbs.includes("*") || g.resources.includes("*") || g.groups.includes("*"))
    problems.push(
      'uses a wildcard (verbs, resources or apiGroups "*"), which grants every current and future permission',
    );
  for (const verb of ["escalate", "impersonate"]) if (g.verbs.includes(verb)) problems.push(`allows "${verb}"`);
  if (g.verbs.includes("bind") && !g.named)
    problems.push('allows "bind" without resourceNames, so any role can be granted');
  if (
    g.resources.includes("secrets") &&
    ["get", "list", "watch"].some((v) => g.verbs.includes(v)) &&
    clusterWide &&
    !g.named
  )
    problems.push("reads Secrets in every namespace");
  if (g.resources.includes("pods/exec") || g.resources.includes("pods/attach")) problems.push("allows exec into pods");
  if (g.resources.includes("pods/ephemeralcontainers") && g.has("patch", "update"))
    problems.push("adds ephemeral containers to running pods, which runs code in them as exec does");
  if (g.resources.includes("serviceaccounts/token") && g.has("create"))
    problems.push("creates service account tokens, so it can act as any service account (and its IAM role)");
  if (g.resources.includes("nodes/proxy")) problems.push("reaches the kubelet API through nodes/proxy");
  if (ADMISSION_RESOURCES.some((r) => g.resources.includes(r)) && g.has(...WRITE_VERBS))
    problems.push(`${ADMISSION_WRITE}, so it can lift the checks on every other write`);
  if (g.resources.includes("certificatesigningrequests/approval") && g.has("update", "patch"))
    problems.push("approves certificate signing requests, so it can mint client certificates for any user or node");
  if (g.resources.includes("signers") && g.has("approve", "sign"))
    problems.push('holds "approve" or "sign" on certificate signers, so it can issue certificates for any identity');
  if (g.resources.includes("persistentvolumes") && g.has("create", "update", "patch"))
    problems.push("creates PersistentVolumes, which can hand any node path (hostPath) to a pod that claims them");
  return problems;
}

/** What a rule grants in one namespace that amounts to acting as that namespace's service accounts. */
function namespaceProblems(rule: Props): string[] {
  const g = grantOf(rule);
  const problems: string[] = [];
  if (g.on(...POD_RUNNING_RESOURCES) && g.has("create", "update", "patch"))
    problems.push("creates or changes pods (or workloads that run them), which run as any service account there");
  if (g.on("secrets") && g.has("create") && !g.named)
    problems.push("creates Secrets, where a service-account-token Secret gets a token of any service account there");
  return problems;
}

/** The rules a binding's roleRef names: a role the stack defines, a well-known ClusterRole, or undefined. */
function referencedRules(
  roleRef: Props,
  namespace: string | undefined,
  resources: readonly StackResource[],
): readonly Props[] | undefined {
  const kind = stringOf(roleRef["kind"]);
  const name = stringOf(roleRef["name"]);
  if (name === undefined) return undefined;
  const defined = resources.filter((r) => {
    const match = RBAC_ROLE.exec(r.type);
    if (match === null || match[1] !== kind || match[2] !== undefined) return false;
    const metadata = recordOf(pathOf(r.props, "metadata"));
    return (
      stringOf(metadata["name"]) === name && (kind === "ClusterRole" || stringOf(metadata["namespace"]) === namespace)
    );
  });
  if (defined.length > 0) return defined.flatMap((r) => listOf(pathOf(r.props, "rules")).filter(isRecord));
  return kind === "ClusterRole" ? BUILT_IN_ROLES[name] : undefined;
}

/** Whether a namespace is a developer's own (labelled so by the stack) and every subject is a single user. */
function ownNamespaceOfUsers(
  namespace: string,
  subjects: readonly Props[],
  resources: readonly StackResource[],
): boolean {
  const labelled = resources.some(
    (r) =>
      r.type === "kubernetes:core/v1:Namespace" &&
      stringOf(pathOf(r.props, "metadata", "name")) === namespace &&
      recordOf(pathOf(r.props, "metadata", "labels"))[DEVELOPER_NAMESPACE_LABEL] !== undefined,
  );
  return labelled && subjects.length > 0 && subjects.every((s) => s["kind"] === "User");
}

export const rbacLeastPrivilege: StackValidationPolicy = {
  name: "rbac-least-privilege",
  description:
    "Roles and ClusterRoles grant no wildcard, escalate, impersonate, unnamed bind, cluster-wide Secrets, exec, ephemeral containers, token creation, admission writes, certificate approval or PersistentVolume creation; no role or binding lets anyone create pods or Secrets in a namespace where this stack's workloads hold IAM roles (judged by what the bound role grants, the stack's own or edit/admin/cluster-admin), unless it is a developer's own namespace bound to single users; no binding grants cluster-admin, or a ClusterRoleBinding admin or edit, or binds everyone of a kind (all authenticated or unauthenticated users, all service accounts, or those of a namespace).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    let protectedNamespaces: Set<string> | undefined;
    const identity = () => (protectedNamespaces ??= identityNamespaces(args.resources));
    for (const resource of args.resources) {
      const role = RBAC_ROLE.exec(resource.type);
      const binding = RBAC_BINDING.exec(resource.type);
      if (role === null && binding === null) continue;
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(label, () => {
        const props = materialize(resource.props) as Props;
        const namespace = stringOf(pathOf(props, "metadata", "namespace"));
        // A pinned chart's own RBAC (KEDA's operator) creates Jobs for ScaledJobs, its certificate Secret and
        // its webhook's caBundle by design: judged by the classic checks only (docs/POLICY.md, "Packaged objects").
        const packaged = renderedByChart(resource.parent?.urn);
        if (role !== null) {
          const namespaced = !packaged && role[1] === "Role" && namespace !== undefined && identity().has(namespace);
          listOf(props["rules"]).forEach((raw, index) => {
            if (!isRecord(raw)) return;
            const problems = ruleProblems(raw, role[1] === "ClusterRole").filter(
              (p) => !(packaged && p.startsWith(ADMISSION_WRITE)),
            );
            if (namespaced)
              problems.push(
                ...namespaceProblems(raw).map(
                  (p) => `${p}; namespace "${namespace}" is where this stack's workloads hold IAM roles`,
                ),
              );
            for (const problem of problems)
              reportViolation(
                `${label}: rules[${index}] ${problem}; grant named verbs on named resources.`,
                resource.urn,
              );
          });
          return;
        }
        const roleRef = recordOf(props["roleRef"]);
        const refName = stringOf(roleRef["name"]) ?? "";
        const clusterWide = binding?.[1] === "ClusterRoleBinding";
        const subjects = listOf(props["subjects"]).map(recordOf);
        if (refName === "cluster-admin" || (clusterWide && ["admin", "edit"].includes(refName)))
          reportViolation(
            `${label}: binds ${clusterWide ? "cluster-wide" : "in its namespace"} to ClusterRole "${refName}"; bind a role that grants only what the subjects need${clusterWide ? ", in their own namespaces" : ""}.`,
            resource.urn,
          );
        else {
          // Judge the binding by what the role it names grants where it applies.
          const reached = clusterWide
            ? [...identity()]
            : namespace !== undefined && identity().has(namespace)
              ? [namespace]
              : [];
          const rules = reached.length === 0 ? [] : (referencedRules(roleRef, namespace, args.resources) ?? []);
          const own =
            packaged ||
            (!clusterWide && namespace !== undefined && ownNamespaceOfUsers(namespace, subjects, args.resources));
          const problems = own ? [] : [...new Set(rules.flatMap(namespaceProblems))];
          for (const problem of problems)
            reportViolation(
              `${label}: ${stringOf(roleRef["kind"]) ?? "role"} "${refName}" ${problem}, in ${reached.map((n) => `"${n}"`).join(", ")}, where this stack's workloads hold IAM roles; whoever it binds can act as those roles. Bind a role without pod, workload or Secret writes there.`,
              resource.urn,
            );
        }
        subjects.forEach((subject, index) => {
          const name = stringOf(subject["name"]) ?? "";
          if (BROAD_GROUPS.includes(name) || (subject["kind"] === "Group" && NAMESPACE_SERVICE_ACCOUNTS.test(name)))
            reportViolation(
              `${label}: subjects[${index}] is "${name}", which is everyone of its kind${NAMESPACE_SERVICE_ACCOUNTS.test(name) ? " (every service account of the namespace, present and future)" : ""}; bind named users, groups or service accounts.`,
              resource.urn,
            );
        });
      });
    }
    decisions.settle();
  },
};

const ADMISSION_BINDING = /^kubernetes:admissionregistration\.k8s\.io\/[^:]+:ValidatingAdmissionPolicyBinding(Patch)?$/;
const ADMISSION_POLICY = /^kubernetes:admissionregistration\.k8s\.io\/[^:]+:ValidatingAdmissionPolicy(Patch)?$/;

/** CEL roots through which an expression reads the request (Kubernetes docs "Validating Admission Policy", variables). */
const REQUEST_ROOTS = /\b(object|oldObject|request|params|namespaceObject|authorizer|variables)\b/;

/** Whether every validation is absent or cannot depend on the request (so it admits or refuses everything alike). */
function validatesNothing(validations: readonly unknown[]): boolean {
  return validations.every((raw) => !REQUEST_ROOTS.test(stringOf(recordOf(raw)["expression"]) ?? ""));
}

/** Whether one resourceRule (apiGroups, resources, operations) matches a write of `group`/`resource`. */
function ruleMatches(rule: Props, group: string, resource: string): boolean {
  const groups = stringsOf(rule["apiGroups"]);
  const resources = stringsOf(rule["resources"]).map((r) => r.toLowerCase());
  const operations = stringsOf(rule["operations"]);
  return (
    (groups.includes("*") || groups.includes(group)) &&
    (resources.includes("*") || resources.includes(resource)) &&
    (operations.length === 0 || operations.some((o) => ["*", "CREATE", "UPDATE", "DELETE"].includes(o)))
  );
}

/** The (apiGroup, resource) pairs the stack's own Roles and ClusterRoles let someone write. */
function writtenResources(resources: readonly StackResource[]): [string, string][] {
  const pairs: [string, string][] = [];
  const add = (rule: Props): void => {
    const g = grantOf(rule);
    if (!g.has(...WRITE_VERBS)) return;
    for (const group of g.groups) for (const resource of g.resources) pairs.push([group, resource]);
  };
  for (const role of resources.filter((r) => RBAC_ROLE.test(r.type))) {
    for (const rule of listOf(pathOf(materialize(role.props), "rules")).filter(isRecord)) {
      add(rule);
      // `bind` on named ClusterRoles lets the holder grant themselves what those roles grant (Kubernetes docs,
      // "Using RBAC Authorization", "Restrictions on role binding creation or update"): that is written too.
      const g = grantOf(rule);
      if (!g.verbs.includes("bind") || !g.on("clusterroles")) continue;
      for (const name of stringsOf(rule["resourceNames"]))
        for (const granted of referencedRules({ kind: "ClusterRole", name }, undefined, resources) ?? []) add(granted);
    }
  }
  return pairs;
}

export const admissionPolicyEnforced: StackValidationPolicy = {
  name: "admission-policy-enforced",
  description:
    "Every ValidatingAdmissionPolicy the stack defines fails closed (failurePolicy Fail), validates something of the request (not only constant expressions), matches at least one resource the stack's roles let someone write, and is bound with validationActions including Deny by a binding naming it; every binding names a policy of the stack and its namespaceSelector selects at least one namespace the stack defines.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    const policies = args.resources.filter((r) => ADMISSION_POLICY.test(r.type));
    const bindings = args.resources.filter((r) => ADMISSION_BINDING.test(r.type));
    decisions.decide("admission policies", () => {
      const policyNames = new Set(
        policies.map((p) => stringOf(pathOf(materialize(p.props), "metadata", "name"))).filter((n) => n !== undefined),
      );
      const namespaceLabels = args.resources
        .filter((r) => r.type === "kubernetes:core/v1:Namespace")
        .map((r) => recordOf(pathOf(materialize(r.props), "metadata", "labels")));
      for (const binding of bindings) {
        const props = materialize(binding.props) as Props;
        const label = `ValidatingAdmissionPolicyBinding "${binding.name}"`;
        const actions = stringsOf(pathOf(props, "spec", "validationActions"));
        if (!actions.includes("Deny"))
          reportViolation(
            `${label}: spec.validationActions is [${actions.join(", ")}], so violations are only ${actions.length === 0 ? "ignored" : "reported"}; include "Deny".`,
            binding.urn,
          );
        if (binding.type.endsWith("Patch")) continue;
        const policyName = stringOf(pathOf(props, "spec", "policyName"));
        if (policyName === undefined || !policyNames.has(policyName))
          reportViolation(
            `${label}: spec.policyName ${JSON.stringify(policyName)} names no ValidatingAdmissionPolicy of this stack, so what it enforces is unknown (or nothing); bind one of the stack's policies.`,
            binding.urn,
          );
        const selector = pathOf(props, "spec", "matchResources", "namespaceSelector");
        const narrowed =
          isRecord(selector) && (selector["matchLabels"] !== undefined || selector["matchExpressions"] !== undefined);
        if (narrowed && !namespaceLabels.some((labels) => selects(selector, labels)))
          reportViolation(
            `${label}: spec.matchResources.namespaceSelector selects none of the namespaces this stack defines, so the policy may judge nothing (and never a namespace created without those labels); remove the selector or make it select what the policy must fence.`,
            binding.urn,
          );
      }
      const written = writtenResources(args.resources);
      for (const policy of policies) {
        const props = materialize(policy.props) as Props;
        const label = `ValidatingAdmissionPolicy "${policy.name}"`;
        if (stringOf(pathOf(props, "spec", "failurePolicy")) === "Ignore")
          reportViolation(
            `${label}: spec.failurePolicy is "Ignore", so a request its expressions cannot evaluate is admitted; remove it (Fail is the default).`,
            policy.urn,
          );
        if (policy.type.endsWith("Patch")) continue;
        const validations = listOf(pathOf(props, "spec", "validations"));
        if (validatesNothing(validations))
          reportViolation(
            `${label}: spec.validations ${validations.length === 0 ? "is empty" : "only has expressions that read nothing of the request (object, request, variables, params)"}, so it admits every request alike; validate what the policy fences.`,
            policy.urn,
          );
        const rules = listOf(pathOf(props, "spec", "matchConstraints", "resourceRules")).filter(isRecord);
        if (written.length > 0 && !written.some(([g, r]) => rules.some((rule) => ruleMatches(rule, g, r))))
          reportViolation(
            `${label}: spec.matchConstraints.resourceRules match none of the resources this stack's roles let anyone write, so it fences nothing they can do; match the resources the roles grant.`,
            policy.urn,
          );
        const name = stringOf(pathOf(props, "metadata", "name"));
        const bound = bindings.some(
          (b) => stringOf(pathOf(b.props, "spec", "policyName")) === name && name !== undefined,
        );
        if (!bound)
          reportViolation(
            `${label}: no ValidatingAdmissionPolicyBinding of this stack names it, so it judges nothing.`,
            policy.urn,
          );
      }
    });
    decisions.settle();
  },
};

const SERVICE = /^kubernetes:core\/v1:Service(Patch)?$/;
const INGRESS = /^kubernetes:networking\.k8s\.io\/[^:]+:Ingress(Patch)?$/;

/** Whether a Service's annotations keep its AWS load balancer inside the VPC. */
function internalLoadBalancer(annotations: Props): boolean {
  return (
    annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] === "internal" ||
    annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] === "true" ||
    annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] === true
  );
}

/** The CIDRs one security group ingress rule admits, in every spelling the AWS provider has. */
function ingressCidrs(rule: Props): string[] {
  const cidrs = [...stringsOf(rule["cidrBlocks"]), ...stringsOf(rule["ipv6CidrBlocks"])];
  for (const key of ["cidrIpv4", "cidrIpv6"]) {
    const value = stringOf(rule[key]);
    if (value !== undefined) cidrs.push(value);
  }
  return cidrs;
}

/** What a CIDR list admits of the internet beyond one network, judged by address count (lib/cidr.ts). */
function tooOpen(cidrs: readonly string[]): string | undefined {
  const wide = admitsInternet(cidrs);
  return wide === undefined ? undefined : `${cidrs.join(", ")} (${wide})`;
}

function portOf(value: unknown): string {
  return typeof value === "number" || typeof value === "string" ? String(value) : "any";
}

export const workloadNotInternetFacing: StackValidationPolicy = {
  name: "workload-not-internet-facing",
  description:
    "No Service of type LoadBalancer or Ingress puts pods on the internet (AWS load balancers are internal, or their source CIDRs cover at most a /16 of public IPv4 and a /48 of IPv6, counted together), no Service sets externalIPs, and no security group ingress rule admits more than that.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    for (const resource of args.resources) {
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(label, () => {
        const props = materialize(resource.props) as Props;
        const annotations = recordOf(pathOf(props, "metadata", "annotations"));
        if (SERVICE.test(resource.type) && stringOf(pathOf(props, "spec", "type")) === "LoadBalancer") {
          const ranges = stringsOf(pathOf(props, "spec", "loadBalancerSourceRanges"));
          const open = ranges.length === 0 ? "every address" : tooOpen(ranges);
          if (!internalLoadBalancer(annotations) && open !== undefined)
            reportViolation(
              `${label}: spec.type LoadBalancer is internet-facing and admits ${open}; annotate service.beta.kubernetes.io/aws-load-balancer-scheme: internal, or list loadBalancerSourceRanges no wider than one network.`,
              resource.urn,
            );
        }
        if (SERVICE.test(resource.type)) {
          // Any Service's externalIPs are routed to its pods by kube-proxy on every node, whoever owns them (CVE-2020-8554).
          const external = stringsOf(pathOf(props, "spec", "externalIPs"));
          if (external.length > 0)
            reportViolation(
              `${label}: spec.externalIPs (${external.join(", ")}) makes every node forward traffic for those addresses to the Service's pods, and can intercept another endpoint's traffic (CVE-2020-8554); remove it and use an internal load balancer.`,
              resource.urn,
            );
        }
        if (INGRESS.test(resource.type) && annotations["alb.ingress.kubernetes.io/scheme"] === "internet-facing") {
          const inbound = stringOf(annotations["alb.ingress.kubernetes.io/inbound-cidrs"]);
          const open =
            inbound === undefined
              ? "every address"
              : tooOpen(
                  inbound
                    .split(",")
                    .map((c) => c.trim())
                    .filter((c) => c !== ""),
                );
          if (open !== undefined)
            reportViolation(
              `${label}: alb.ingress.kubernetes.io/scheme is internet-facing and admits ${open}; make it internal or set alb.ingress.kubernetes.io/inbound-cidrs no wider than one network.`,
              resource.urn,
            );
        }
        const ingressRules =
          resource.type === AWS.securityGroup
            ? listOf(props["ingress"]).map(recordOf)
            : resource.type === AWS.securityGroupRule && props["type"] === "ingress"
              ? [props]
              : resource.type === AWS.securityGroupIngressRule
                ? [props]
                : [];
        for (const rule of ingressRules) {
          const open = tooOpen(ingressCidrs(rule));
          if (open !== undefined)
            reportViolation(
              `${label}: an ingress rule admits ${open} on ports ${portOf(rule["fromPort"])}-${portOf(rule["toPort"])}; admit only the networks or security groups that need it.`,
              resource.urn,
            );
        }
      });
    }
    decisions.settle();
  },
};
