/**
 * ValidatingAdmissionPolicy, evaluated as the API server does, with a real CEL evaluator (@bufbuild/cel):
 * a policy applies to a request when a binding names it, one of its `matchConstraints.resourceRules` matches
 * the request's group, version, resource and operation, and every `matchConditions` expression is true;
 * then `variables` are computed in order, and a request is denied when any `validations` expression is
 * false. An expression that fails to evaluate counts as a denial under `failurePolicy: Fail`.
 *
 * The request seen by the expressions is the AdmissionRequest's CEL form: `request` (operation, name,
 * namespace, resource {group, version, resource}, userInfo {username, groups}), `object` (null on DELETE),
 * `oldObject` (null on CREATE), `variables`. Sources: Kubernetes docs, "Validating Admission Policy"
 * (matching, variables, validations, failure policy); kubernetes/kubernetes
 * `staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating` (evaluation order).
 */
import { run } from "@bufbuild/cel";
import type { User } from "./authorizer";

export type Operation = "CREATE" | "UPDATE" | "DELETE";

export interface AdmissionRequest {
  readonly operation: Operation;
  readonly apiGroup: string;
  readonly version: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly user: User;
  readonly object: Record<string, unknown> | null;
  readonly oldObject: Record<string, unknown> | null;
}

/** A policy as recorded (its spec) and whether a binding with the Deny action names it. */
export interface AdmissionPolicy {
  readonly name: string;
  readonly spec: Record<string, unknown>;
  readonly bound: boolean;
}

interface ResourceRule {
  readonly apiGroups?: string[];
  readonly apiVersions?: string[];
  readonly resources?: string[];
  readonly operations?: string[];
}

/** JSON to CEL values: objects as maps, whole numbers as CEL ints. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([key, inner]) => [key, toCel(inner)]));
  }
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value;
}

function listMatches(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes("*") || list.includes(value));
}

function evaluate(expression: string, bindings: Record<string, unknown>): { value?: unknown; error?: string } {
  try {
    return { value: run(expression, bindings as never) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The denials of every bound policy that applies; empty when the request is admitted. */
export function admissionDenials(policies: readonly AdmissionPolicy[], request: AdmissionRequest): string[] {
  const denials: string[] = [];
  const celRequest = toCel({
    operation: request.operation,
    name: request.name,
    namespace: request.namespace,
    resource: { group: request.apiGroup, version: request.version, resource: request.resource },
    userInfo: { username: request.user.username, groups: [...request.user.groups] },
  });
  for (const policy of policies.filter((p) => p.bound)) {
    const spec = policy.spec as {
      matchConstraints?: { resourceRules?: ResourceRule[] };
      matchConditions?: { name: string; expression: string }[];
      variables?: { name: string; expression: string }[];
      validations?: { expression: string; message?: string }[];
    };
    const applies = (spec.matchConstraints?.resourceRules ?? []).some(
      (rule) =>
        listMatches(rule.apiGroups, request.apiGroup) &&
        listMatches(rule.apiVersions, request.version) &&
        listMatches(rule.resources, request.resource) &&
        listMatches(rule.operations, request.operation),
    );
    if (!applies) continue;
    const bindings: Record<string, unknown> = {
      request: celRequest,
      object: toCel(request.object),
      oldObject: toCel(request.oldObject),
    };
    const conditionResults = (spec.matchConditions ?? []).map((condition) => evaluate(condition.expression, bindings));
    const failed = conditionResults.find((result) => result.error !== undefined);
    if (failed !== undefined) {
      denials.push(`${policy.name}: a match condition failed: ${failed.error}`);
      continue;
    }
    if (!conditionResults.every((result) => result.value === true)) continue;
    const variables = new Map<string, unknown>();
    bindings.variables = variables;
    for (const variable of spec.variables ?? []) {
      const result = evaluate(variable.expression, bindings);
      if (result.error === undefined) variables.set(variable.name, result.value);
    }
    for (const validation of spec.validations ?? []) {
      const result = evaluate(validation.expression, bindings);
      if (result.error !== undefined) denials.push(`${policy.name}: ${result.error}`);
      else if (result.value !== true) denials.push(`${policy.name}: ${validation.message ?? validation.expression}`);
    }
  }
  return denials;
}
