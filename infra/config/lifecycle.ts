/**
 * The lifecycle concern (LIFECYCLE_KEYS): whether the stack is long-lived (what holds state is protected, a
 * change that would replace the queues is refused at preview) or ephemeral (nothing protected, so
 * `pulumi destroy` removes everything), and a long-lived stack's one-update leave to replace its queues.
 * infra/lifecycle.ts turns it into resource options and the preview's comparison with the last update.
 *
 * A developer stack (clusterMode borrow) must be ephemeral: its developer, and the cleanup job once its
 * `ttlHours` have passed, destroy it with `pulumi destroy`, which the engine refuses while a resource is
 * protected. So a borrowing stack that is not ephemeral is refused at preview, naming the key.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import type { ConfigInput } from "./parse";

export interface LifecycleConfig {
  /** A stack meant to be destroyed: nothing protected or retained. Default false (long-lived). */
  readonly ephemeral: boolean;
  /** Long-lived only: this update may replace the queues; the old ones are retained in AWS. Default false. */
  readonly allowQueueReplacement: boolean;
}

/**
 * The stack's lifecycle; both keys are booleans, already parsed (a bad value is a problem there). A problem on
 * `ephemeral` when a borrowing stack leaves it false (and on `allowQueueReplacement`, if that stack sets it).
 */
export function readLifecycle(input: ConfigInput, problems: SettingProblem[]): LifecycleConfig {
  const { ephemeral, allowQueueReplacement, clusterMode } = input.values;
  if (clusterMode === "borrow" && !ephemeral) {
    problems.push({
      key: input.key("ephemeral"),
      reason:
        'must be true when clusterMode is borrow: a developer stack is destroyed by its developer or by the cleanup job once its ttlHours have passed, and pulumi destroy stops at protected resources (pulumi config set ephemeral true; docs/DEPLOY.md, "Developer stacks")',
    });
    // Once ephemeral, applies-when.ts names it; say so now, so that one preview names every key to change.
    if (allowQueueReplacement) {
      problems.push({
        key: input.key("allowQueueReplacement"),
        reason: "a developer stack is ephemeral, and its queues are never protected; remove it",
      });
    }
  }
  return { ephemeral, allowQueueReplacement };
}
