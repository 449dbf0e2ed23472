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
import { parsePolicyDocument } from "../lib/iam-document";
import { ofType, type StackResource } from "../lib/stack";
import { AWS, EKS, kindOf } from "../lib/types";
import { Decisions } from "../lib/undecided";
import { isRecord, listOf, materialize, pathOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

/** A /16: the most public addresses an endpoint may admit by default (an office or a VPN range, not the internet). */
export const DEFAULT_MAX_PUBLIC_ADDRESSES = 65_536;

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** How many addresses a CIDR covers, or undefined when it is not an IPv4 CIDR. */
export function addressesIn(cidr: string): number | undefined {
  const match = IPV4_CIDR.exec(cidr.trim());
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  return 2 ** (32 - prefix);
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
const BROAD_GROUPS = ["system:anonymous", "system:unauthenticated", "system:authenticated", "system:serviceaccounts"];

/** What one RBAC rule grants that amounts to more than its words: wildcards, escalation, secrets, exec, tokens. */
function ruleProblems(rule: Props, clusterWide: boolean): string[] {
  const verbs = stringsOf(rule["verbs"]).map((v) => v.toLowerCase());
  const resources = stringsOf(rule["resources"]).map((r) => r.toLowerCase());
  const groups = stringsOf(rule["apiGroups"]);
  const named = stringsOf(rule["resourceNames"]).length > 0;
  const problems: string[] = [];
  const has = (verb: string) => verbs.includes(verb) || verbs.includes("*");
  if (verbs.includes("*") || resources.includes("*") || groups.includes("*"))
    problems.push(
      'uses a wildcard (verbs, resources or apiGroups "*"), which grants every current and future permission',
    );
  for (const verb of ["escalate", "impersonate"]) if (verbs.includes(verb)) problems.push(`allows "${verb}"`);
  if (verbs.includes("bind") && !named)
    problems.push('allows "bind" without resourceNames, so any role can be granted');
  if (resources.includes("secrets") && ["get", "list", "watch"].some(has) && clusterWide && !named)
    problems.push("reads Secrets in every namespace");
  if (resources.includes("pods/exec") || resources.includes("pods/attach")) problems.push("allows exec into pods");
  if (resources.includes("serviceaccounts/token") && has("create"))
    problems.push("creates service account tokens, so it can act as any service account (and its IAM role)");
  if (resources.includes("nodes/proxy")) problems.push("reaches the kubelet API through nodes/proxy");
  return problems;
}

export const rbacLeastPrivilege: StackValidationPolicy = {
  name: "rbac-least-privilege",
  description:
    "Roles and ClusterRoles grant no wildcard, escalate, impersonate, unnamed bind, cluster-wide Secrets, exec or token creation; no binding grants cluster-admin, or a ClusterRoleBinding admin or edit, or binds anyone to every authenticated user or service account.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    for (const resource of args.resources) {
      const role = RBAC_ROLE.exec(resource.type);
      const binding = RBAC_BINDING.exec(resource.type);
      if (role === null && binding === null) continue;
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(label, () => {
        const props = materialize(resource.props) as Props;
        if (role !== null) {
          listOf(props["rules"]).forEach((raw, index) => {
            if (!isRecord(raw)) return;
            for (const problem of ruleProblems(raw, role[1] === "ClusterRole"))
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
        if (refName === "cluster-admin" || (clusterWide && ["admin", "edit"].includes(refName)))
          reportViolation(
            `${label}: binds ${clusterWide ? "cluster-wide" : "in its namespace"} to ClusterRole "${refName}"; bind a role that grants only what the subjects need${clusterWide ? ", in their own namespaces" : ""}.`,
            resource.urn,
          );
        listOf(props["subjects"]).forEach((raw, index) => {
          const name = stringOf(recordOf(raw)["name"]) ?? "";
          if (BROAD_GROUPS.includes(name))
            reportViolation(
              `${label}: subjects[${index}] is "${name}", which is everyone of its kind; bind named users, groups or service accounts.`,
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

export const admissionPolicyEnforced: StackValidationPolicy = {
  name: "admission-policy-enforced",
  description:
    "Every ValidatingAdmissionPolicy the stack defines fails closed (failurePolicy Fail) and is bound with validationActions including Deny, by a binding naming it.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    const policies = args.resources.filter((r) => ADMISSION_POLICY.test(r.type));
    const bindings = args.resources.filter((r) => ADMISSION_BINDING.test(r.type));
    decisions.decide("admission policies", () => {
      for (const binding of bindings) {
        const actions = stringsOf(pathOf(materialize(binding.props), "spec", "validationActions"));
        if (!actions.includes("Deny"))
          reportViolation(
            `ValidatingAdmissionPolicyBinding "${binding.name}": spec.validationActions is [${actions.join(", ")}], so violations are only ${actions.length === 0 ? "ignored" : "reported"}; include "Deny".`,
            binding.urn,
          );
      }
      for (const policy of policies) {
        const props = materialize(policy.props) as Props;
        const label = `ValidatingAdmissionPolicy "${policy.name}"`;
        if (stringOf(pathOf(props, "spec", "failurePolicy")) === "Ignore")
          reportViolation(
            `${label}: spec.failurePolicy is "Ignore", so a request its expressions cannot evaluate is admitted; remove it (Fail is the default).`,
            policy.urn,
          );
        if (policy.type.endsWith("Patch")) continue;
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

const OPEN = ["0.0.0.0/0", "::/0"];
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

/** Problems with one security group ingress rule: open to the whole internet. */
function openIngress(rule: Props): string | undefined {
  const cidrs = [...stringsOf(rule["cidrBlocks"]), ...stringsOf(rule["ipv6CidrBlocks"])];
  for (const key of ["cidrIpv4", "cidrIpv6"]) {
    const value = stringOf(rule[key]);
    if (value !== undefined) cidrs.push(value);
  }
  const open = cidrs.filter((c) => OPEN.includes(c.trim()));
  return open.length > 0 ? open.join(", ") : undefined;
}

function portOf(value: unknown): string {
  return typeof value === "number" || typeof value === "string" ? String(value) : "any";
}

export const workloadNotInternetFacing: StackValidationPolicy = {
  name: "workload-not-internet-facing",
  description:
    "No Service of type LoadBalancer or Ingress puts pods on the internet (AWS load balancers are internal, or limited by loadBalancerSourceRanges), and no security group admits 0.0.0.0/0 or ::/0.",
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
          if (!internalLoadBalancer(annotations) && (ranges.length === 0 || ranges.some((r) => OPEN.includes(r))))
            reportViolation(
              `${label}: spec.type LoadBalancer is internet-facing and open to every address; annotate service.beta.kubernetes.io/aws-load-balancer-scheme: internal, or list loadBalancerSourceRanges.`,
              resource.urn,
            );
        }
        if (INGRESS.test(resource.type) && annotations["alb.ingress.kubernetes.io/scheme"] === "internet-facing") {
          const inbound = stringOf(annotations["alb.ingress.kubernetes.io/inbound-cidrs"]);
          if (inbound === undefined || inbound.split(",").some((c) => OPEN.includes(c.trim())))
            reportViolation(
              `${label}: alb.ingress.kubernetes.io/scheme is internet-facing with no inbound-cidrs narrower than the internet; make it internal or set alb.ingress.kubernetes.io/inbound-cidrs.`,
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
          const open = openIngress(rule);
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
