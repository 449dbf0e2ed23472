/** Cross-resource lookups for stack-level rules. */
import type { PolicyResource } from "@pulumi/policy";
import { stringOf } from "./values";

/** The subset of `PolicyResource` the rules read; the offline runner builds exactly this. */
export type StackResource = Pick<PolicyResource, "type" | "name" | "urn" | "props" | "parent">;

export function ofType(resources: readonly StackResource[], type: string): StackResource[] {
  return resources.filter((r) => r.type === type);
}

/**
 * Whether `ref` (a property that names another resource) designates `resource`: programs pass a
 * resource's `id`, `arn` or `name` output, and AWS identifies queues by URL. Stack outputs carry all
 * of these; a mocks recorder carries what its mocks return.
 */
export function refersTo(resource: Pick<StackResource, "props">, ref: unknown): boolean {
  if (typeof ref !== "string" || ref === "") return false;
  return ["id", "arn", "name", "url"].some((key) => stringOf(resource.props[key]) === ref);
}

/** Resources whose parent is `component`: empty under mocks, where a remote component has no children. */
export function childrenOf(component: StackResource, resources: readonly StackResource[]): StackResource[] {
  return resources.filter((r) => r.parent?.urn === component.urn);
}

/** Whether `ref` (an ARN or URL) names `queue`. Besides ids, accept an ARN or URL ending in the queue's name. */
export function designatesQueue(queue: Pick<StackResource, "props">, ref: unknown): boolean {
  if (refersTo(queue, ref)) return true;
  const name = stringOf(queue.props["name"]);
  if (typeof ref !== "string" || name === undefined || name === "") return false;
  return (
    (ref.startsWith("arn:") && ref.endsWith(`:${name}`)) || (ref.startsWith("https://") && ref.endsWith(`/${name}`))
  );
}
