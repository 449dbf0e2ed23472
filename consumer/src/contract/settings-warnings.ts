import type { Tunables } from "../settings";
import { SQS_MAX_MESSAGE_BYTES, largestMessageBytes, messagesOfLargestSize } from "./message-memory";

/**
 * Settings that are valid but hurt in production, found before deployment (`pulumi preview` prints
 * them as warnings). Pure: the same inputs give the same warnings, in the order below.
 */

/** What the warnings look at: the consumer's settings and the pod and queue that run them. */
export interface DeploymentSettings {
  readonly tunables: Pick<Tunables, "handlerTimeoutSeconds" | "shutdownBudgetSeconds" | "handlerConcurrency"> &
    Partial<Pick<Tunables, "batchSize">>;
  /** The pod's memory limit, MiB; Node's heap (node-heap.ts) and the consumer's memory budget (message-memory.ts) are sized from it. */
  readonly memoryLimitMiB: number;
  /** The queue's redrive maxReceiveCount. */
  readonly maxReceiveCount: number;
  /**
   * The queue's MaximumMessageSize, bytes: the largest message it accepts, which the consumer sizes its
   * receives by (message-memory.ts). Default SQS's largest, 1 MiB.
   */
  readonly maximumMessageSize?: number;
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
 * - `memoryLimitMiB` too small for the consumer's memory budget to hold one receive of a message of the
 *   largest size the queue accepts (contract/message-memory.ts): large messages may run the pod out of memory;
 * - else `handlerConcurrency` above the number of such messages the budget holds: the consumer does not
 *   fill every handler slot while large messages are in flight (it never exceeds the budget).
 *
 * `keyOf` names a tunable, `memoryLimitMiB` or `maxMessageSizeBytes` the way the caller's users set it (a
 * stack config key).
 */
export function settingsWarnings(
  settings: DeploymentSettings,
  keyOf: (key: keyof Tunables | "memoryLimitMiB" | "maxMessageSizeBytes") => string,
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
  const { memoryLimitMiB } = settings;
  const maximum = largestMessageBytes(settings.maximumMessageSize ?? SQS_MAX_MESSAGE_BYTES);
  const largest = messagesOfLargestSize(memoryLimitMiB, maximum);
  const size = `${describeBytes(maximum)}, the largest the queue accepts (${keyOf("maxMessageSizeBytes")} ${maximum})`;
  const budget = `its memory budget of ${largest.budgetMiB} MiB (for ${keyOf("memoryLimitMiB")} ${memoryLimitMiB} MiB)`;
  if (largest.held === 0) {
    warnings.push({
      key: keyOf("memoryLimitMiB"),
      message:
        `${memoryLimitMiB} MiB leaves the consumer no room for a message of ${size}: ` +
        `${budget} cannot hold one receive of one. It then takes one message at a time and may still run ` +
        `out of memory on large messages. Raise the memory limit to at least ${smallestLimitHolding(1, maximum)} MiB, ` +
        `or lower ${keyOf("maxMessageSizeBytes")} to what producers send.`,
    });
  } else if (handlerConcurrency > largest.held) {
    warnings.push({
      key: keyOf("handlerConcurrency"),
      message:
        `with bodies of ${size}, the consumer holds at most ${largest.held} messages at once, ` +
        `within ${budget}: ${handlerConcurrency - largest.held} of the ${handlerConcurrency} handler slots stay empty while ` +
        `such messages are in flight (receives wait for memory; nothing runs out of it). Fine if bodies are small; to handle ` +
        `${handlerConcurrency} large messages at once raise the memory limit to at least ${smallestLimitHolding(handlerConcurrency, maximum)} MiB.`,
    });
  }
  return warnings;
}

/** "1 MiB", "256 KiB", or "1,500 bytes". */
function describeBytes(bytes: number): string {
  if (bytes % 1_048_576 === 0) return `${bytes / 1_048_576} MiB`;
  if (bytes % 1_024 === 0) return `${bytes / 1_024} KiB`;
  return `${bytes.toLocaleString("en-US")} bytes`;
}

/** The smallest memory limit, MiB, whose budget holds `messages` messages of `maximum` bytes at once. */
function smallestLimitHolding(messages: number, maximum: number): number {
  let low = 1;
  let high = 1;
  while (messagesOfLargestSize(high, maximum).held < messages) high *= 2;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (messagesOfLargestSize(mid, maximum).held >= messages) high = mid;
    else low = mid + 1;
  }
  return low;
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
