import type { Tunables } from "../settings";
import { nodeHeapForMemoryLimit, HEAP_SHARE_OF_MEMORY_LIMIT } from "./node-heap";

/**
 * Settings that are valid but hurt in production, found before deployment (`pulumi preview` prints
 * them as warnings). Pure: the same inputs give the same warnings, in the order below.
 */

/** SQS's largest message body: 1 MiB (SQS quotas, "Message size": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html). */
export const SQS_MAX_BODY_MIB = 1;

/** What the warnings look at: the consumer's settings and the pod and queue that run them. */
export interface DeploymentSettings {
  readonly tunables: Pick<Tunables, "handlerTimeoutSeconds" | "shutdownBudgetSeconds" | "handlerConcurrency"> &
    Partial<Pick<Tunables, "batchSize">>;
  /** The pod's memory limit, MiB; Node's old space is sized from it (node-heap.ts). */
  readonly memoryLimitMiB: number;
  /** The queue's redrive maxReceiveCount. */
  readonly maxReceiveCount: number;
}

/** One warning: the setting it is about (as the caller names it) and what it costs, with the numbers. */
export interface SettingWarning {
  readonly key: string;
  readonly message: string;
}

/**
 * The warnings for one deployment, each naming the numbers behind it:
 * - `batchSize` above `handlerConcurrency`: each message of a batch takes a handler slot, so a batch
 *   handler is given at most `handlerConcurrency` messages per call (message handlers are not affected);
 * - `handlerTimeoutSeconds` above `shutdownBudgetSeconds`: a rollout, scale-in or node drain aborts a
 *   handler still running when the budget ends, and SQS counts that delivery toward `maxReceiveCount`;
 * - `handlerConcurrency` bodies of SQS's largest size not fitting Node's old space for `memoryLimitMiB`.
 *
 * `keyOf` names a tunable or `memoryLimitMiB` the way the caller's users set it (a stack config key).
 */
export function settingsWarnings(
  settings: DeploymentSettings,
  keyOf: (key: keyof Tunables | "memoryLimitMiB") => string,
): SettingWarning[] {
  const warnings: SettingWarning[] = [];
  const { handlerTimeoutSeconds, shutdownBudgetSeconds, handlerConcurrency, batchSize } = settings.tunables;
  const batchWarning = batchSizeWarning(batchSize, handlerConcurrency);
  if (batchWarning !== undefined)
    warnings.push({
      key: keyOf("batchSize"),
      message: `${batchSize} is above ${keyOf("handlerConcurrency")} (${handlerConcurrency}): ${batchWarning}`,
    });
  if (handlerTimeoutSeconds > shutdownBudgetSeconds) {
    warnings.push({
      key: keyOf("handlerTimeoutSeconds"),
      message:
        `${handlerTimeoutSeconds} s is above ${keyOf("shutdownBudgetSeconds")} (${shutdownBudgetSeconds} s): every rollout, scale-in or node drain ` +
        `aborts handlers still running after ${shutdownBudgetSeconds} s, and each abort counts a receive toward the DLQ ` +
        `(maxReceiveCount ${settings.maxReceiveCount}). Lower the handler timeout to the budget if handlers finish within it, ` +
        `or raise the budget (the pod's termination grace period follows it, so rollouts wait longer).`,
    });
  }
  const oldSpaceMiB = nodeHeapForMemoryLimit(settings.memoryLimitMiB).maxOldSpaceMiB;
  const bodiesMiB = handlerConcurrency * SQS_MAX_BODY_MIB;
  if (bodiesMiB > oldSpaceMiB) {
    warnings.push({
      key: keyOf("handlerConcurrency"),
      message:
        `${handlerConcurrency} messages in flight with bodies of up to ${SQS_MAX_BODY_MIB} MiB hold up to ${bodiesMiB} MiB, ` +
        `more than Node's old space of ${oldSpaceMiB} MiB (${HEAP_SHARE_OF_MEMORY_LIMIT * 100}% of ${keyOf("memoryLimitMiB")} ${settings.memoryLimitMiB} MiB): ` +
        `large messages would crash the pod out of memory. Lower the concurrency to at most ${oldSpaceMiB}, or raise the memory limit to at least ` +
        `${Math.ceil(bodiesMiB / HEAP_SHARE_OF_MEMORY_LIMIT)} MiB, unless bodies are known to be small.`,
    });
  }
  return warnings;
}

/**
 * Why a batch size above the handler concurrency does not do what it says, or undefined when it is not
 * above: each message of a batch takes a handler slot (HANDLER_CONCURRENCY counts messages), so a batch
 * handler is given at most `handlerConcurrency` messages per call. Shared by the preview warning and
 * the consumer's start-up warning.
 */
export function batchSizeWarning(batchSize: number | undefined, handlerConcurrency: number): string | undefined {
  if (batchSize === undefined || batchSize <= handlerConcurrency) return undefined;
  return (
    `each message of a batch takes a handler slot, so a batch handler (handleBatch) is given at most ${handlerConcurrency} ` +
    `messages per call, not ${batchSize}. Raise the handler concurrency to at least the batch size, or lower the batch size ` +
    `(message handlers are not affected).`
  );
}
