/**
 * An independent model of who may do what on an EKS cluster, built from the upstream rules rather than from
 * this program: EKS authentication through access entries, EKS's access-policy authorizer and Kubernetes
 * RBAC (an allow from either admits a request), RBAC's escalation check on bindings, and admission by
 * ValidatingAdmissionPolicies (admission.ts). The cluster's state is what a recorded program run put there.
 *
 * Sources:
 * - Authentication: EKS user guide, "Create access entries" (one entry per principal; an assumed role's
 *   session matches its role's entry, whatever the role's path) and "Set a custom username for EKS access
 *   entries" (default usernames; `{{SessionName}}`, with `@` written as `-`: kubernetes-sigs/aws-iam-authenticator
 *   `pkg/server/server.go` renderTemplate); every authenticated user is in `system:authenticated`.
 * - EKS authorization: "Associate access policies with access entries" (a namespace-scoped association
 *   applies in its namespaces only).
 * - RBAC: Kubernetes docs, "Using RBAC Authorization": rules are additive; a RoleBinding grants its role's
 *   rules in its own namespace; resourceNames cannot limit `create`, nor a list or watch without a name;
 *   "Restrictions on role binding creation or update": allowed with the `bind` verb on the referenced role,
 *   or when the user already holds every permission in it; a binding's roleRef cannot change.
 * - Request attributes: kubernetes/kubernetes `staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`
 *   (a list or watch whose field selector names one object carries that name).
 */

/** One RBAC or access-policy rule. */
export interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

/** A resource request as the API server's authorizer sees it. */
export interface ResourceRequest {
  readonly verb: string;
  readonly apiGroup: string;
  /** Plural resource, with `/<subresource>` when there is one. */
  readonly resource: string;
  /** Empty for cluster-scoped resources and for requests across all namespaces. */
  readonly namespace: string;
  /** Empty for create, and for a list or watch of a collection. */
  readonly name: string;
}

export interface User {
  readonly username: string;
  readonly groups: readonly string[];
}

export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface RoleRef {
  readonly kind: "ClusterRole" | "Role";
  readonly name: string;
}

export interface Binding {
  readonly name: string;
  /** Empty for a ClusterRoleBinding. */
  readonly namespace: string;
  readonly roleRef: RoleRef;
  readonly subjects: readonly Subject[];
}

/** An access entry as EKS holds it. */
export interface AccessEntry {
  readonly principalArn: string;
  readonly username?: string;
  readonly kubernetesGroups?: readonly string[];
  readonly accessPolicies: readonly {
    readonly policy: string;
    readonly scope:
      { readonly type: "cluster" } | { readonly type: "namespace"; readonly namespaces: readonly string[] };
  }[];
}

/** Everything the authorizers read. */
export interface AuthorizationState {
  readonly accessEntries: readonly AccessEntry[];
  readonly accessPolicies: Readonly<Record<string, readonly Rule[]>>;
  readonly clusterRoles: ReadonlyMap<string, readonly Rule[]>;
  /** Roles by `<namespace>/<name>`. */
  readonly roles: ReadonlyMap<string, readonly Rule[]>;
  readonly bindings: readonly Binding[];
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const IAM_ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

/** The Kubernetes user a caller's AWS identity becomes, or undefined when no access entry admits it. */
export function authenticate(state: AuthorizationState, callerArn: string): User | undefined {
  const session = ASSUMED_ROLE.exec(callerArn);
  const entry = state.accessEntries.find((candidate) => {
    if (session === null) return candidate.principalArn === callerArn;
    const role = IAM_ROLE.exec(candidate.principalArn);
    return role !== null && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
  });
  if (entry === undefined) return undefined;
  const sessionName = session?.[4] ?? "";
  const template =
    entry.username ??
    (session === null ? callerArn : `arn:${session[1]}:sts::${session[2]}:assumed-role/${session[3]}/{{SessionName}}`);
  const username = template
    .replaceAll("{{SessionNameRaw}}", sessionName)
    .replaceAll("{{SessionName}}", sessionName.replaceAll("@", "-"))
    .replaceAll("{{AccountID}}", session?.[2] ?? "");
  return { username, groups: [...(entry.kubernetesGroups ?? []), "system:authenticated"] };
}

function matches(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes("*") || list.includes(value));
}

/** Whether one rule allows a request (RBAC's `RuleAllows`). */
export function ruleAllows(rule: Rule, request: ResourceRequest): boolean {
  if (!matches(rule.verbs, request.verb)) return false;
  if (!matches(rule.apiGroups, request.apiGroup)) return false;
  if (!matches(rule.resources, request.resource)) return false;
  if (rule.resourceNames === undefined || rule.resourceNames.length === 0) return true;
  return request.name !== "" && rule.resourceNames.includes(request.name);
}

function subjectMatches(subject: Subject, user: User): boolean {
  if (subject.kind === "User") return subject.name === user.username;
  if (subject.kind === "Group") return user.groups.includes(subject.name);
  return false;
}

function rulesOf(state: AuthorizationState, binding: Binding): readonly Rule[] {
  return binding.roleRef.kind === "ClusterRole"
    ? (state.clusterRoles.get(binding.roleRef.name) ?? [])
    : (state.roles.get(`${binding.namespace}/${binding.roleRef.name}`) ?? []);
}

/** Whether RBAC allows the request. */
export function rbacAllows(state: AuthorizationState, user: User, request: ResourceRequest): boolean {
  return state.bindings.some(
    (binding) =>
      (binding.namespace === "" || binding.namespace === request.namespace) &&
      binding.subjects.some((subject) => subjectMatches(subject, user)) &&
      rulesOf(state, binding).some((rule) => ruleAllows(rule, request)),
  );
}

/** Whether EKS's access-policy authorizer allows the request for the caller's access entry. */
export function accessPolicyAllows(state: AuthorizationState, callerArn: string, request: ResourceRequest): boolean {
  const user = authenticate(state, callerArn);
  if (user === undefined) return false;
  const session = ASSUMED_ROLE.exec(callerArn);
  const entry = state.accessEntries.find((candidate) => {
    if (session === null) return candidate.principalArn === callerArn;
    const role = IAM_ROLE.exec(candidate.principalArn);
    return role !== null && role[2] === session[2] && role[3] === session[3];
  });
  return (entry?.accessPolicies ?? []).some(({ policy, scope }) => {
    const inScope =
      scope.type === "cluster" || (request.namespace !== "" && scope.namespaces.includes(request.namespace));
    return inScope && (state.accessPolicies[policy] ?? []).some((rule) => ruleAllows(rule, request));
  });
}

/** Whether the request is authorized for the caller: by an access policy or by RBAC. */
export function authorized(state: AuthorizationState, callerArn: string, request: ResourceRequest): boolean {
  const user = authenticate(state, callerArn);
  if (user === undefined) return false;
  return accessPolicyAllows(state, callerArn, request) || rbacAllows(state, user, request);
}

/**
 * RBAC's escalation check for creating or updating a binding in `namespace` (empty: a ClusterRoleBinding):
 * the caller may `bind` the referenced role, or already holds every permission it grants there.
 */
export function mayBind(state: AuthorizationState, callerArn: string, roleRef: RoleRef, namespace: string): boolean {
  const bind: ResourceRequest = {
    verb: "bind",
    apiGroup: "rbac.authorization.k8s.io",
    resource: roleRef.kind === "ClusterRole" ? "clusterroles" : "roles",
    namespace,
    name: roleRef.name,
  };
  if (authorized(state, callerArn, bind)) return true;
  const rules =
    roleRef.kind === "ClusterRole"
      ? (state.clusterRoles.get(roleRef.name) ?? [])
      : (state.roles.get(`${namespace}/${roleRef.name}`) ?? []);
  return rules.every((rule) =>
    (rule.apiGroups ?? []).every((apiGroup) =>
      (rule.resources ?? []).every((resource) =>
        rule.verbs.every((verb) =>
          (rule.resourceNames?.length ? rule.resourceNames : [""]).every((name) =>
            authorized(state, callerArn, { verb, apiGroup, resource, namespace, name }),
          ),
        ),
      ),
    ),
  );
}
