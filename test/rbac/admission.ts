/**
 * ValidatingAdmissionPolicy, evaluated as the API server does, with a real CEL evaluator (@bufbuild/cel):
 * a policy applies to a request when a binding names it, one of its `matchConstraints.resourceRules` matches
 * the request's group, version, resource and operation, and every `matchConditions` expression is true;
 * then `variables` are computed in order, and a request is denied when any `validations` expression is
 * false. An expression that fails to evaluate counts as a denial under `failurePolicy: Fail`.
 *
 * The request seen by the expressions is the AdmissionRequest's CEL form: `request` (operation, name,
 * namespace, resource {group, version, resource}, userInfo {username, groups}), `object` (null on DELETE),
 * `oldObject` (null on CREATE), `variables`, and `params` for a policy with a `paramKind`.
 *
 * `matchConstraints.namespaceSelector` (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist) is
 * matched against the labels of the request's namespace; for a Namespace itself against its own labels; a
 * request for another cluster-scoped resource always matches. A policy with `paramKind` takes its parameter
 * from its binding's `paramRef`: the object of that kind and name, in `paramRef.namespace` or else the
 * request's namespace; none found, the binding's `parameterNotFoundAction` (default Deny) denies the request.
 * Sources: Kubernetes docs, "Validating Admission Policy" (matching, variables, validations, failure policy,
 * "Parameter resources"), "Label selectors"; kubernetes/kubernetes
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

/** A binding's reference to the parameter of a policy with a `paramKind`. */
export interface ParamRef {
  readonly name: string;
  readonly namespace?: string;
  readonly parameterNotFoundAction?: "Allow" | "Deny";
}

/** A policy as recorded (its spec), whether a binding with the Deny action names it, and that binding's paramRef. */
export interface AdmissionPolicy {
  readonly name: string;
  readonly spec: Record<string, unknown>;
  readonly bound: boolean;
  readonly paramRef?: ParamRef;
}

/** What admission reads of the cluster besides the request: namespaces' labels, and parameter objects. */
export interface AdmissionContext {
  /** The labels of a namespace, undefined when it does not exist. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /** An object of `kind` (`apiVersion` as in paramKind), undefined when it does not exist. */
  param(apiVersion: string, kind: string, namespace: string, name: string): Record<string, unknown> | undefined;
}

const NO_CONTEXT: AdmissionContext = { namespaceLabels: () => undefined, param: () => undefined };

interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether labels match a label selector (an empty selector matches everything). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === "Exists") return key in labels;
    if (operator === "DoesNotExist") return !(key in labels);
    if (operator === "In") return key in labels && values.includes(labels[key]!);
    if (operator === "NotIn") return !(key in labels) || !values.includes(labels[key]!);
    throw new Error(`unknown selector operator ${operator}`);
  });
  return byLabel && byExpression;
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
export function admissionDenials(
  policies: readonly AdmissionPolicy[],
  request: AdmissionRequest,
  context: AdmissionContext = NO_CONTEXT,
): string[] {
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
      paramKind?: { apiVersion: string; kind: string };
      matchConstraints?: { resourceRules?: ResourceRule[]; namespaceSelector?: LabelSelector };
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
    const selector = spec.matchConstraints?.namespaceSelector;
    if (selector !== undefined) {
      const own = (request.object ?? request.oldObject) as { metadata?: { labels?: Record<string, string> } } | null;
      const labels =
        request.resource === "namespaces" && request.apiGroup === ""
          ? (own?.metadata?.labels ?? {})
          : request.namespace === ""
            ? undefined
            : (context.namespaceLabels(request.namespace) ?? {});
      if (labels !== undefined && !selectorMatches(selector, labels)) continue;
    }
    const bindings: Record<string, unknown> = {
      request: celRequest,
      object: toCel(request.object),
      oldObject: toCel(request.oldObject),
    };
    if (spec.paramKind !== undefined) {
      const ref = policy.paramRef;
      const param =
        ref === undefined
          ? undefined
          : context.param(spec.paramKind.apiVersion, spec.paramKind.kind, ref.namespace ?? request.namespace, ref.name);
      if (param === undefined) {
        if ((ref?.parameterNotFoundAction ?? "Deny") === "Deny") {
          denials.push(`${policy.name}: no ${spec.paramKind.kind} ${ref?.name ?? "(no paramRef)"} in the namespace`);
        }
        continue;
      }
      bindings.params = toCel(param);
    }
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
