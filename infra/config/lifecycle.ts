/**
 * The lifecycle concern (LIFECYCLE_KEYS): whether the stack is long-lived (what holds state is protected, a
 * change that would replace the queues is refused at preview) or ephemeral (nothing protected, so
 * `pulumi destroy` removes everything), and a long-lived stack's one-update leave to replace its queues.
 * infra/lifecycle.ts turns it into resource options and the preview's comparison with the last update.
 */
import type { ConfigInput } from "./parse";

export interface LifecycleConfig {
  /** A stack meant to be destroyed: nothing protected or retained. Default false (long-lived). */
  readonly ephemeral: boolean;
  /** Long-lived only: this update may replace the queues; the old ones are retained in AWS. Default false. */
  readonly allowQueueReplacement: boolean;
}

/** The stack's lifecycle; both keys are booleans, already parsed (a bad value is a problem there). */
export function readLifecycle(input: ConfigInput): LifecycleConfig {
  return { ephemeral: input.values.ephemeral, allowQueueReplacement: input.values.allowQueueReplacement };
}
