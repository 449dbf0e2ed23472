/**
 * A simulated EKS cluster for judging recorded program runs: the state the platform's run put into it
 * (access entries, RBAC objects, admission policies, namespaces), and a developer's stack replayed against it
 * as the Pulumi Kubernetes provider talks to the API server, each request judged by the authorizers
 * (authorizer.ts, upstream-roles.ts) and admission (admission.ts) and, when admitted, applied.
 *
 * What the provider asks for (pulumi/pulumi-kubernetes `provider/pkg/provider/provider.go` and
 * `provider/pkg/await/`): with server-side apply, a preview is a dry-run `patch` and an `up` a `patch` that
 * creates or updates; it reads an object back (`get`), waits on it with a watch on its name (a named
 * `list`/`watch`), and for a Deployment also lists and watches its ReplicaSets, Pods and Events, for a Service
 * its Endpoints, EndpointSlices and Pods; a destroy `delete`s and waits until the object is gone. `create` is
 * asked too, for the provider's non-apply paths. `<Resource>.get` is a `get`. A resource's plural follows
 * Kubernetes' guess from its kind (k8s.io/apimachinery `pkg/api/meta/restmapper.go`, UnsafeGuessKindToResource).
 */
import type { ProgramRun, RecordedResource } from "../helpers/mocks";
import {
  admissionDenials,
  type AdmissionContext,
  type AdmissionPolicy,
  type Operation,
  type ParamRef,
} from "./admission";
import {
  authenticate,
  authorized,
  mayBind,
  type AccessEntry,
  type AuthorizationState,
  type Binding,
  type ResourceRequest,
  type Rule,
} from "./authorizer";
import { BUILT_IN_CLUSTER_ROLES, EKS_ACCESS_POLICIES } from "./upstream-roles";

/** Kinds whose objects belong to no namespace. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "CustomResourceDefinition",
]);

/** A Kubernetes object's coordinates, from a Pulumi type token `kubernetes:<group>/<version>:<Kind>`. */
export interface ObjectRef {
  readonly apiGroup: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
}

/** The plural a kind's resource has: lower case, `s` appended (`es` after s, `ies` for y). */
export function guessResource(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith("s")) return `${lower}es`;
  if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** The object a recorded Kubernetes resource stands for, or undefined for anything else. */
export function objectRef(resource: RecordedResource): ObjectRef | undefined {
  const match = /^kubernetes:([^/]+)\/([^:]+):([A-Za-z]+)$/.exec(resource.type);
  if (match === null) return undefined;
  const [, group = "", version = "", kind = ""] = match;
  const metadata = (resource.read ? resource.state.metadata : resource.inputs.metadata) as
    { name?: string; namespace?: string } | undefined;
  const id = resource.state.id;
  const idParts = resource.read && typeof id === "string" ? id.split("/") : [];
  const name = metadata?.name ?? idParts.at(-1) ?? "";
  const namespace = CLUSTER_SCOPED.has(kind) ? "" : (metadata?.namespace ?? (idParts.length > 1 ? idParts[0]! : ""));
  return { apiGroup: group === "core" ? "" : group, version, kind, resource: guessResource(kind), namespace, name };
}

function objectKey(ref: Pick<ObjectRef, "apiGroup" | "resource" | "namespace" | "name">): string {
  return `${ref.apiGroup}/${ref.resource}/${ref.namespace}/${ref.name}`;
}

/** One request a developer made and how the cluster answered. */
export interface Decision {
  readonly caller: string;
  readonly what: string;
  readonly request: ResourceRequest;
  readonly allowed: boolean;
  readonly reason: string;
}

/** Whether a decision was a refusal, described. */
export function describeDecision(decision: Decision): string {
  const { verb, apiGroup, resource, namespace, name } = decision.request;
  return `${decision.what}: ${verb} ${apiGroup || "core"}/${resource} ${namespace || "(cluster)"}/${name || "*"}: ${decision.reason}`;
}

interface PolicyBindingSpec {
  readonly policyName: string;
  readonly validationActions?: string[];
  readonly paramRef?: ParamRef;
}

interface MutableState extends AuthorizationState {
  readonly accessEntries: AccessEntry[];
  readonly clusterRoles: Map<string, readonly Rule[]>;
  readonly roles: Map<string, readonly Rule[]>;
  readonly bindings: Binding[];
}

/** The cluster: authorization state, admission policies, and the objects it holds. */
export class SimulatedCluster {
  private readonly state: MutableState;
  private readonly policies: AdmissionPolicy[] = [];
  private readonly objects = new Map<string, Record<string, unknown>>();

  private constructor(accessEntries: AccessEntry[]) {
    this.state = {
      accessEntries,
      accessPolicies: EKS_ACCESS_POLICIES,
      clusterRoles: new Map(Object.entries(BUILT_IN_CLUSTER_ROLES)),
      roles: new Map(),
      bindings: [],
    };
  }

  /** The cluster a create-mode run makes: its access entries, and every Kubernetes object it declares. */
  static fromPlatform(platform: ProgramRun): SimulatedCluster {
    const cluster = platform.resources.find((r) => r.type === "eks:index:Cluster");
    const entries = (cluster?.inputs.accessEntries ?? {}) as Record<
      string,
      {
        principalArn: string;
        username?: string;
        kubernetesGroups?: string[];
        accessPolicies?: Record<
          string,
          { policyArn: string; accessScope: AccessEntry["accessPolicies"][number]["scope"] }
        >;
      }
    >;
    const simulated = new SimulatedCluster(
      Object.values(entries).map((entry) => ({
        principalArn: entry.principalArn,
        ...(entry.username === undefined ? {} : { username: entry.username }),
        ...(entry.kubernetesGroups === undefined ? {} : { kubernetesGroups: entry.kubernetesGroups }),
        accessPolicies: Object.values(entry.accessPolicies ?? {}).map((association) => ({
          policy: association.policyArn.split("/").at(-1) ?? "",
          scope: association.accessScope,
        })),
      })),
    );
    for (const resource of platform.resources) {
      const ref = objectRef(resource);
      if (ref !== undefined && !resource.read) simulated.store(ref, resource.inputs);
    }
    return simulated;
  }

  /** The Kubernetes user a caller is, if any access entry admits it. */
  userOf(callerArn: string) {
    return authenticate(this.state, callerArn);
  }

  /** Whether the cluster holds this object. */
  has(ref: Pick<ObjectRef, "apiGroup" | "resource" | "namespace" | "name">): boolean {
    return this.objects.has(objectKey(ref));
  }

  private store(ref: ObjectRef, object: Record<string, unknown>): void {
    this.objects.set(objectKey(ref), object);
    const metadata = { name: ref.name, namespace: ref.namespace };
    if (ref.kind === "ClusterRole") this.state.clusterRoles.set(ref.name, (object.rules ?? []) as Rule[]);
    if (ref.kind === "Role") this.state.roles.set(`${ref.namespace}/${ref.name}`, (object.rules ?? []) as Rule[]);
    if (ref.kind === "ClusterRoleBinding" || ref.kind === "RoleBinding") {
      this.removeBinding(ref);
      this.state.bindings.push({
        ...metadata,
        roleRef: object.roleRef as Binding["roleRef"],
        subjects: (object.subjects ?? []) as Binding["subjects"],
      });
    }
    if (ref.kind === "ValidatingAdmissionPolicy") {
      this.removePolicy(ref.name);
      const binding = this.bindingOf(ref.name);
      this.policies.push({
        name: ref.name,
        spec: object.spec as Record<string, unknown>,
        bound: binding !== undefined,
        ...(binding?.paramRef === undefined ? {} : { paramRef: binding.paramRef }),
      });
    }
    if (ref.kind === "ValidatingAdmissionPolicyBinding") {
      const spec = object.spec as PolicyBindingSpec;
      if (spec.validationActions?.includes("Deny")) {
        const policy = this.policies.find((p) => p.name === spec.policyName);
        if (policy !== undefined)
          this.policies.splice(this.policies.indexOf(policy), 1, {
            ...policy,
            bound: true,
            ...(spec.paramRef === undefined ? {} : { paramRef: spec.paramRef }),
          });
      }
    }
  }

  private bindingOf(policyName: string): PolicyBindingSpec | undefined {
    for (const [key, object] of this.objects.entries()) {
      const spec = object.spec as PolicyBindingSpec | undefined;
      if (
        key.startsWith("admissionregistration.k8s.io/validatingadmissionpolicybindings/") &&
        spec?.policyName === policyName &&
        (spec.validationActions ?? []).includes("Deny")
      )
        return spec;
    }
    return undefined;
  }

  /** What admission reads of the cluster: namespaces' labels, and parameter objects by kind. */
  private readonly admissionContext: AdmissionContext = {
    namespaceLabels: (namespace) => {
      const found = this.objects.get(
        objectKey({ apiGroup: "", resource: "namespaces", namespace: "", name: namespace }),
      );
      return found === undefined ? undefined : ((found.metadata as { labels?: Record<string, string> }).labels ?? {});
    },
    param: (apiVersion, kind, namespace, name) => {
      const apiGroup = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
      return this.objects.get(objectKey({ apiGroup, resource: guessResource(kind), namespace, name }));
    },
  };

  /**
   * Admission alone, for a request made by a user no access entry maps (a controller: the ReplicaSet
   * controller creates a Deployment's pods under its own RBAC).
   */
  admit(
    user: { username: string; groups: readonly string[] },
    ref: ObjectRef,
    object: Record<string, unknown>,
  ): string[] {
    return admissionDenials(
      this.policies,
      {
        operation: this.objects.has(objectKey(ref)) ? "UPDATE" : "CREATE",
        apiGroup: ref.apiGroup,
        version: ref.version,
        resource: ref.resource,
        namespace: ref.namespace,
        name: ref.name,
        user: { username: user.username, groups: [...user.groups] },
        object,
        oldObject: this.objects.get(objectKey(ref)) ?? null,
      },
      this.admissionContext,
    );
  }

  private removePolicy(name: string): void {
    const index = this.policies.findIndex((p) => p.name === name);
    if (index >= 0) this.policies.splice(index, 1);
  }

  private removeBinding(ref: Pick<ObjectRef, "namespace" | "name">): void {
    const index = this.state.bindings.findIndex((b) => b.namespace === ref.namespace && b.name === ref.name);
    if (index >= 0) this.state.bindings.splice(index, 1);
  }

  private remove(ref: ObjectRef): void {
    this.objects.delete(objectKey(ref));
    if (ref.kind === "RoleBinding" || ref.kind === "ClusterRoleBinding") this.removeBinding(ref);
    if (ref.kind === "Namespace") {
      // The namespace controller deletes what the namespace holds.
      for (const key of [...this.objects.keys()]) if (key.split("/")[2] === ref.name) this.objects.delete(key);
      for (const binding of this.state.bindings.filter((b) => b.namespace === ref.name)) this.removeBinding(binding);
    }
  }

  /** Authorizes one request (no admission: reads, and the authorization half of a write). */
  authorize(callerArn: string, what: string, request: ResourceRequest): Decision {
    const allowed = authorized(this.state, callerArn, request);
    return {
      caller: callerArn,
      what,
      request,
      allowed,
      reason: allowed ? "allowed" : "forbidden by RBAC and access policies",
    };
  }

  /**
   * A write, judged as the API server does: authorization, RBAC's escalation check for bindings, then
   * admission; applied when admitted.
   */
  write(
    callerArn: string,
    what: string,
    ref: ObjectRef,
    verb: "create" | "patch" | "update" | "delete",
    object: Record<string, unknown> | null,
  ): Decision {
    const request: ResourceRequest = {
      verb,
      apiGroup: ref.apiGroup,
      resource: ref.resource,
      namespace: ref.namespace,
      name: verb === "create" ? "" : ref.name,
    };
    const decision = this.authorize(callerArn, what, request);
    if (!decision.allowed) return decision;
    const user = this.userOf(callerArn)!;
    if (verb !== "delete" && (ref.kind === "RoleBinding" || ref.kind === "ClusterRoleBinding")) {
      const roleRef = object?.roleRef as Binding["roleRef"];
      if (!mayBind(this.state, callerArn, roleRef, ref.namespace)) {
        return {
          ...decision,
          allowed: false,
          reason: `RBAC refuses to bind ${roleRef.kind} ${roleRef.name}: no bind verb, and not every permission it grants is held`,
        };
      }
    }
    const existing = this.objects.get(objectKey(ref)) ?? null;
    const operation: Operation = verb === "delete" ? "DELETE" : existing === null ? "CREATE" : "UPDATE";
    const denials = admissionDenials(
      this.policies,
      {
        operation,
        apiGroup: ref.apiGroup,
        version: ref.version,
        resource: ref.resource,
        namespace: ref.namespace,
        name: ref.name,
        user,
        object: verb === "delete" ? null : object,
        oldObject: existing,
      },
      this.admissionContext,
    );
    if (denials.length > 0) return { ...decision, allowed: false, reason: `admission: ${denials.join("; ")}` };
    if (verb === "delete") this.remove(ref);
    else this.store(ref, object ?? {});
    return decision;
  }

  /**
   * Replays a program run's Kubernetes resources as `callerArn`, in dependency order, as an `up` (each
   * object created, or updated when it exists) or a `destroy` (reverse order; no delete is asked of a
   * retained resource, nor of one `deletedWith` a resource the destroy deletes: pulumi/pulumi
   * `pkg/resource/deploy/step_generator.go`). Returns every decision.
   */
  replay(callerArn: string, run: ProgramRun, phase: "up" | "destroy"): Decision[] {
    const ordered = dependencyOrder(run).filter((resource) => objectRef(resource) !== undefined);
    const decisions: Decision[] = [];
    if (phase === "up") {
      for (const resource of ordered) decisions.push(...this.upRequests(callerArn, resource));
    } else {
      for (const resource of [...ordered].reverse()) decisions.push(...this.destroyRequests(callerArn, resource));
    }
    return decisions;
  }

  private upRequests(callerArn: string, resource: RecordedResource): Decision[] {
    const ref = objectRef(resource)!;
    const what = `${resource.type} ${resource.name}`;
    const named = (verb: string): ResourceRequest => ({
      verb,
      apiGroup: ref.apiGroup,
      resource: ref.resource,
      namespace: ref.namespace,
      name: ref.name,
    });
    if (resource.read) return [this.authorize(callerArn, what, named("get"))];
    const object = {
      apiVersion: `${ref.apiGroup ? `${ref.apiGroup}/` : ""}${ref.version}`,
      kind: ref.kind,
      ...resource.inputs,
    };
    const decisions = [
      this.authorize(callerArn, what, named("get")),
      this.authorize(callerArn, what, { ...named("create"), name: "" }),
      this.write(callerArn, what, ref, "patch", object),
      this.authorize(callerArn, what, named("list")),
      this.authorize(callerArn, what, named("watch")),
    ];
    const collection = (apiGroup: string, plural: string) =>
      ["list", "watch"].map((verb) =>
        this.authorize(callerArn, `${what} (await)`, {
          verb,
          apiGroup,
          resource: plural,
          namespace: ref.namespace,
          name: "",
        }),
      );
    if (ref.kind === "Deployment") {
      decisions.push(...collection("apps", "replicasets"), ...collection("", "pods"), ...collection("", "events"));
    }
    if (ref.kind === "Service") {
      decisions.push(
        ...collection("", "endpoints"),
        ...collection("discovery.k8s.io", "endpointslices"),
        ...collection("", "pods"),
      );
    }
    return decisions;
  }

  private destroyRequests(callerArn: string, resource: RecordedResource): Decision[] {
    const ref = objectRef(resource)!;
    if (resource.read || resource.retainOnDelete || resource.deletedWith !== "") return [];
    // What the namespace's deletion already took is gone: the provider finds it so and asks nothing more.
    if (ref.namespace !== "" && !this.has(ref)) return [];
    const what = `${resource.type} ${resource.name}`;
    return [
      this.write(callerArn, what, ref, "delete", null),
      this.authorize(callerArn, what, {
        verb: "get",
        apiGroup: ref.apiGroup,
        resource: ref.resource,
        namespace: ref.namespace,
        name: ref.name,
      }),
    ];
  }
}

/**
 * The run's resources in an order that respects their dependencies (a dependency on a component is one on
 * all its descendants), ties kept in registration order.
 */
export function dependencyOrder(run: ProgramRun): RecordedResource[] {
  const byUrn = new Map(run.resources.map((resource) => [resource.urn, resource]));
  const children = new Map<string, RecordedResource[]>();
  for (const resource of run.resources)
    children.set(resource.parent, [...(children.get(resource.parent) ?? []), resource]);
  const descendants = (urn: string): string[] =>
    (children.get(urn) ?? []).flatMap((child) => [child.urn, ...descendants(child.urn)]);
  const done = new Set<string>();
  const ordered: RecordedResource[] = [];
  const visit = (resource: RecordedResource, path: Set<string>): void => {
    if (done.has(resource.urn) || path.has(resource.urn)) return;
    path.add(resource.urn);
    for (const dependency of resource.dependencies) {
      const target = byUrn.get(dependency);
      if (target === undefined) continue;
      for (const urn of target.custom ? [dependency] : [dependency, ...descendants(dependency)]) {
        const found = byUrn.get(urn);
        if (found !== undefined) visit(found, path);
      }
    }
    path.delete(resource.urn);
    done.add(resource.urn);
    ordered.push(resource);
  };
  for (const resource of run.resources) visit(resource, new Set());
  return ordered;
}
