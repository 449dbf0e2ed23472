/**
 * The test harness: runs one rule on synthetic resources through the same evaluator as the offline
 * runner (configuration validated and defaulted the same way) and returns the violation texts.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resolvePackConfig } from "../offline/config";
import { evaluatePolicy, type Finding, type RecordedResource } from "../offline/evaluate";

async function run(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: readonly RecordedResource[],
  config: Record<string, unknown> | undefined,
): Promise<Finding[]> {
  const settings = resolvePackConfig([policy], config === undefined ? {} : { [policy.name]: config });
  return evaluatePolicy(policy, resources, settings.get(policy.name)?.values ?? {});
}

/** The messages a resource policy reports for one resource. */
export async function resourceViolations(
  policy: ResourceValidationPolicy,
  resource: RecordedResource,
  config?: Record<string, unknown>,
): Promise<string[]> {
  return (await run(policy, [resource], config)).map((f) => f.message);
}

/** The findings (message and blamed URN) a stack policy reports for a set of resources. */
export async function stackViolations(
  policy: StackValidationPolicy,
  resources: readonly RecordedResource[],
  config?: Record<string, unknown>,
): Promise<Finding[]> {
  return run(policy, resources, config);
}

type Container = Record<string, unknown> | unknown[];

function step(container: unknown, key: string, path: string): Container {
  if (typeof container !== "object" || container === null) throw new Error(`no object at "${key}" of ${path}`);
  return container as Container;
}

/** Sets (or with `undefined`, deletes) the value at a dotted path such as `spec.template.spec.containers.0.image`. */
export function setPath(root: unknown, path: string, value: unknown): void {
  const keys = path.split(".");
  const last = keys.pop();
  if (last === undefined) throw new Error("empty path");
  let current = step(root, "(root)", path);
  for (const key of keys) current = step((current as Record<string, unknown>)[key], key, path);
  const target = current as Record<string, unknown>;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

/** A copy of `resource` with each `path: value` applied to its props (`undefined` deletes). */
export function edit(resource: RecordedResource, changes: Record<string, unknown>): RecordedResource {
  const props = structuredClone(resource.props) as Record<string, unknown>;
  for (const [path, value] of Object.entries(changes)) setPath(props, path, value);
  return { ...resource, props };
}

/** A copy of `resource` whose JSON-string property `prop` is replaced by `document`, serialised. */
export function withJson(resource: RecordedResource, prop: string, document: unknown): RecordedResource {
  return { ...resource, props: { ...resource.props, [prop]: JSON.stringify(document) } };
}
