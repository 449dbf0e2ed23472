/**
 * What a recorded program needs from AWS: every request of every resource it registers (components
 * expanded into what their plugins register), and of every invoke it makes; and what it registers or calls
 * that the table does not cover. See catalog.ts for the table, components.ts for the plugins.
 */
import {
  GRANTS,
  INVOKE_RULES,
  RESOURCE_RULES,
  invokeNeeds,
  resourceNeeds,
  type Environment,
  type Grant,
  type Need,
  type Phase,
  type RecordedInvoke,
  type RegisteredResource,
} from "./catalog";
import { COMPONENT_RULES } from "./components";

export * from "./catalog";
export { COMPONENT_RULES, type ComponentRule } from "./components";

/** This program's own components (type `sqs-eks-consumer:<module>:<Name>`) make no request of their own. */
const PROGRAM_COMPONENT = /^sqs-eks-consumer:[\w-]+:\w+$/;

/** Types that make no AWS request: Pulumi's own, the program's components, and Kubernetes objects (judged by the cluster, not IAM). */
export function makesNoAwsRequest(type: string): boolean {
  return (
    PROGRAM_COMPONENT.test(type) ||
    type === "pulumi:pulumi:Stack" ||
    type.startsWith("pulumi:providers:") ||
    (type.startsWith("kubernetes:") && COMPONENT_RULES[type] === undefined)
  );
}

/** A recorded program run: what it registered and what it invoked. */
export interface RecordedRun {
  readonly resources: readonly RegisteredResource[];
  readonly invokes: readonly RecordedInvoke[];
}

export interface RunNeeds {
  readonly needs: readonly Need[];
  /** Resource types and invoke tokens the table does not cover. */
  readonly uncovered: readonly string[];
}

/**
 * The requests a run makes. A StackReference reads the other stack's checkpoint from the state backend,
 * which the roles grant with the state (ci/roles.ts), not through this table.
 */
export function needsOfRun(run: RecordedRun, env: Environment): RunNeeds {
  const uncovered = new Set<string>();
  const resources: RegisteredResource[] = [];
  const invokes: RecordedInvoke[] = [...run.invokes];
  const needs: Need[] = [];
  for (const resource of run.resources) {
    const component = COMPONENT_RULES[resource.type];
    if (component !== undefined) {
      const expansion = component.expand(resource, env, run.resources);
      resources.push(...expansion.resources);
      invokes.push(...expansion.invokes);
      needs.push(...expansion.needs);
    } else {
      resources.push(resource);
    }
  }
  const view = { resources };
  for (const resource of resources) {
    if (RESOURCE_RULES[resource.type] !== undefined) needs.push(...resourceNeeds(resource, env, view));
    else if (!makesNoAwsRequest(resource.type) && resource.type !== "pulumi:pulumi:StackReference")
      uncovered.add(resource.type);
  }
  for (const invoke of invokes) {
    if (INVOKE_RULES[invoke.token] !== undefined) needs.push(...invokeNeeds(invoke, env));
    else uncovered.add(invoke.token);
  }
  return { needs, uncovered: [...uncovered].sort() };
}

/**
 * Every action of the table, by grant, with the phases that request it. With `resourceTypes`, only the actions
 * of those resource types' rows (no invokes, no components): what a role needs that acts on those types alone.
 */
export function actionsByGrant(resourceTypes?: ReadonlySet<string>): Map<Grant, Map<string, Set<Phase>>> {
  const grants = new Map<Grant, Map<string, Set<Phase>>>(GRANTS.map((grant) => [grant, new Map()]));
  const add = (grant: Grant, action: string, phase: Phase) => {
    const actions = grants.get(grant)!;
    actions.set(action, (actions.get(action) ?? new Set<Phase>()).add(phase));
  };
  for (const [type, rule] of Object.entries(RESOURCE_RULES)) {
    if (resourceTypes !== undefined && !resourceTypes.has(type)) continue;
    for (const operation of rule.operations)
      for (const action of operation.actions) add(operation.grant, action, operation.phase);
  }
  if (resourceTypes !== undefined) return grants;
  for (const rule of Object.values(INVOKE_RULES))
    for (const { grant, actions } of rule.grants) for (const action of actions) add(grant, action, "invoke");
  for (const rule of Object.values(COMPONENT_RULES))
    for (const { grant, phase, actions } of rule.grants) for (const action of actions) add(grant, action, phase);
  return grants;
}
