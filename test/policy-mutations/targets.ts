/**
 * Helpers for writing mutations: they find what to weaken by type and shape, never by name, so a variant
 * applies to any resource set with such a thing (the synthetic good stack of policies/test/fixtures, or
 * the resources recorded from the program), and throw NoTarget when there is none.
 */
import { containersOf, podSpecOf } from "../../policies/lib/pod-spec";
import { designatesQueue, refersTo } from "../../policies/lib/stack";
import { parsePolicyDocument } from "../../policies/lib/iam-document";
import { AWS, K8S } from "../../policies/lib/types";
import { isRecord, listOf, parseJsonObject } from "../../policies/lib/values";
import type { RecordedResource } from "../../policies/offline/evaluate";
import { NoTarget, type Resources } from "./check";

/** A JSON object being edited: mutations only ever see the private copy `runMutations` made. */
export type Mutable = Record<string, unknown>;

// AWS's documented example key ID and secret, split so that secret scanners do not flag this file.
export const EXAMPLE_KEY_ID = ["AKIA", "IOSFODNN7EXAMPLE"].join("");
export const EXAMPLE_SECRET = ["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"].join("");

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

/** A resource of `type` named `name`, with a URN in the stack and project of the set's first resource. */
export function extraResource(resources: Resources, type: string, name: string, props: Mutable): RecordedResource {
  const prefix = /^(urn:pulumi:[^:]+::[^:]+::)/.exec(resources[0]?.urn ?? "")?.[1] ?? "urn:pulumi:stack::project::";
  return { type, name, urn: `${prefix}${type}::${name}`, props };
}

/** Rewrites a JSON document property in place, keeping its form (string or object). */
export function editDocument(resource: RecordedResource, key: string, change: (document: Mutable) => void): void {
  const original = resource.props[key];
  const parsed = parseJsonObject(original);
  if (!parsed.ok) throw new NoTarget(`${resource.name}.${key} ${parsed.reason}`);
  const document = structuredClone(parsed.value) as Mutable;
  change(document);
  props(resource)[key] = typeof original === "string" ? JSON.stringify(document) : document;
}

/** Appends `statement` to a policy document's Statement list. */
export function addStatement(document: Mutable, statement: Mutable): void {
  document["Statement"] = [...listOf(document["Statement"]).filter(isRecord), statement];
}

/** The statements of a policy document, editable in place. */
export function statementsOf(document: Mutable): Mutable[] {
  return listOf(document["Statement"]).filter(isRecord);
}

/** Whether a role's trust policy lets pods assume it (an OIDC provider or EKS Pod Identity). */
function isWorkloadRole(props: Readonly<Record<string, unknown>>): boolean {
  const document = parsePolicyDocument(props["assumeRolePolicy"]);
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

/** Calls `change` on the permissions document (a RolePolicy or an attached Policy) reaching the workload role. */
export function editGrantDocument(resources: Resources, change: (document: Mutable) => void): void {
  const role = workloadRole(resources);
  const inline = resources.find((r) => r.type === AWS.rolePolicy && refersTo(role, r.props["role"]));
  const attachment = resources.find((r) => r.type === AWS.rolePolicyAttachment && refersTo(role, r.props["role"]));
  const attached = resources.find((r) => r.type === AWS.policy && refersTo(r, attachment?.props["policyArn"]));
  const holder = inline ?? attached;
  if (holder === undefined) throw new NoTarget("no permissions document reaching the workload role");
  editDocument(holder, "policy", change);
}

/** Calls `change` on the first Allow statement of the permissions document reaching the workload role. */
export function editGrant(resources: Resources, change: (statement: Mutable) => void): void {
  editGrantDocument(resources, (document) => {
    const statement = statementsOf(document).find((s) => s["Effect"] === "Allow");
    if (statement === undefined) throw new NoTarget("the workload role's permissions have no Allow statement");
    change(statement);
  });
}

export function sourceQueue(resources: Resources): RecordedResource {
  return find(
    resources,
    "queue with a redrive policy",
    (r) => r.type === AWS.queue && r.props["redrivePolicy"] !== undefined,
  );
}

export function deadLetterQueue(resources: Resources): RecordedResource {
  const redrive = parseJsonObject(sourceQueue(resources).props["redrivePolicy"]);
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

/** The account ID in the source queue's ARN. */
export function accountOf(resources: Resources): string {
  const account = /:(\d{12}):/.exec(String(sourceQueue(resources).props["arn"]))?.[1];
  if (account === undefined) throw new NoTarget("no account ID in the source queue's ARN");
  return account;
}

/** The Deployment of the set. */
export function deployment(resources: Resources): RecordedResource {
  return find(resources, "Deployment", ofType(K8S.deployment));
}

/** The namespace the Deployment runs in. */
export function namespaceOf(resources: Resources): unknown {
  const metadata = deployment(resources).props["metadata"];
  return isRecord(metadata) ? metadata["namespace"] : undefined;
}

/** The pod spec of the first pod-bearing Kubernetes object. */
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
