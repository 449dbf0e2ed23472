/**
 * What the pack cannot see whole: resources of types the surface table (lib/surfaces.ts) does not know
 * that still carry something a rule would judge (unknown-resource-reviewed), and Helm releases, whose
 * objects are never in the stack the rules see (packaged-objects-visible). A Chart recorded whole under
 * mocks is the offline runner's to report (offline/packaged.ts `unseenPackagedObjects`): under the Pulumi
 * CLI its objects are resources.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parsePolicyDocument } from "../lib/iam-document";
import { childrenOf } from "../lib/stack";
import { isKnownType } from "../lib/surfaces";
import { kindOf } from "../lib/types";
import { Decisions } from "../lib/undecided";
import { isRecord, listOf, materialize } from "../lib/values";

const MAX_DEPTH = 40;
const NETWORK_KEYS = new Set([
  "cidrblocks",
  "ipv6cidrblocks",
  "cidripv4",
  "cidripv6",
  "cidrblock",
  "sourceranges",
  "loadbalancersourceranges",
  "publicaccesscidrs",
  "ipblock",
  "prefixlistids",
  "fromport",
]);
/** Keys whose value is a container (image and command) outside a `containers` list: Argo `container` and `script`, Tekton `steps` and `sidecars`, Batch `containerProperties`. */
const CONTAINER_KEYS = new Set(["container", "script", "steps", "sidecars", "initcontainers", "containerproperties"]);
/** Keys naming who receives a grant that is not a policy document: aws.lambda.Permission `principal`, grants' grantees. */
const GRANTEE_KEYS = new Set(["principal", "principals", "granteeprincipal", "sourceaccount", "principalorgid"]);
const ATTACHMENT_KEYS = new Set(["policyarn", "policyarns", "managedpolicyarn", "managedpolicyarns"]);

/** What a property bag carries that a rule would judge, as short phrases. */
export function sensitiveContent(props: unknown): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof value === "string") {
      const trimmed = value.trim();
      if (trimmed.startsWith("{") && trimmed.includes("Statement")) {
        const document = parsePolicyDocument(trimmed);
        if (document.ok && document.value.length > 0) found.add("an IAM policy document");
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v) => visit(v, depth + 1));
      return;
    }
    if (!isRecord(value)) return;
    if (Array.isArray(value["Statement"]) || isRecord(value["Statement"])) found.add("an IAM policy document");
    if (Array.isArray(value["containers"]) && value["containers"].some((c) => isRecord(c) && "image" in c))
      found.add("a pod template");
    if (Array.isArray(value["webhooks"])) found.add("admission webhooks");
    if (isRecord(value["hostPath"]) || isRecord(value["local"])) found.add("a node path (hostPath or local volume)");
    for (const [key, child] of Object.entries(value)) {
      const lower = key.toLowerCase();
      if (CONTAINER_KEYS.has(lower) && listOf(child).some((c) => isRecord(c) && typeof c["image"] === "string"))
        found.add("a pod template");
      if (GRANTEE_KEYS.has(lower) && typeof child === "string") found.add("a grant to a principal");
      if (NETWORK_KEYS.has(lower)) found.add("a network rule");
      if (ATTACHMENT_KEYS.has(lower)) found.add("a policy attachment");
      visit(child, depth + 1);
    }
  };
  visit(props, 0);
  return [...found].sort();
}

export const unknownResourceReviewed: ResourceValidationPolicy = {
  name: "unknown-resource-reviewed",
  description:
    "A resource of a type no rule of this pack judges, that carries an IAM policy document, a pod template (containers, a container, a script or steps with an image), a node path, a network rule, a grant to a principal, a policy attachment or admission webhooks, is named so that someone reviews it.",
  enforcementLevel: "advisory",
  validateResource: (args, reportViolation) => {
    if (isKnownType(args.type)) return;
    const decisions = new Decisions();
    decisions.decide(`${kindOf(args.type)} "${args.name}"`, () => {
      const carried = sensitiveContent(materialize(args.props));
      if (carried.length === 0) return;
      reportViolation(
        `${kindOf(args.type)} "${args.name}" (${args.type}) carries ${carried.join(", ")}, but no rule of this pack knows the type, so nothing judged what it grants or exposes; review it, and add the type to the pack's surface table (docs/POLICY.md) with a rule.`,
      );
    });
    decisions.settle();
  },
};

const RELEASE = /^kubernetes:helm\.sh\/v\d+:Release$/;

export const packagedObjectsVisible: StackValidationPolicy = {
  name: "packaged-objects-visible",
  description:
    "No helm.v3.Release installs objects the pack cannot see: a Release's pods, RBAC and webhooks are Helm's, never resources of the stack, so use helm.v4.Chart, whose objects are.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    for (const release of args.resources.filter((r) => RELEASE.test(r.type))) {
      if (childrenOf(release, args.resources).length > 0) continue;
      reportViolation(
        `${kindOf(release.type)} "${release.name}" installs its objects through Helm, never as resources of this stack, so no rule judges its pods, RBAC or webhooks; use helm.v4.Chart instead.`,
        release.urn,
      );
    }
  },
};
