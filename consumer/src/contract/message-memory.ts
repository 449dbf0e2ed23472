/**
 * How much memory the consumer gives to messages for a container memory limit, and what each message
 * costs against it: the rule the consumer enforces at run time (consumer/src/memory.ts) and the preview
 * warning states (settings-warnings.ts), so the two cannot disagree.
 *
 * A message's body is held more than once, and a receive costs far more than the messages it brings
 * while its answer is read: the SDK collects the response in chunks and copies them into one buffer,
 * decodes it to text and parses it into the messages (@smithy/core `streamCollector`, `parseJsonBody`),
 * and V8 frees the garbage of each receive only at its next collection. Measured with bodies of SQS's
 * largest size inside a hard cgroup limit (docs/BENCHMARKS.md, scenario L), a message cost about
 * 10 MiB of memory while its receive was read and the garbage was still uncollected, and about
 * 1.3 times the size of its body once held. The charges below carry that, rounded up.
 */

/**
 * SQS's largest message, body and attributes together: 1 MiB (SQS quotas, "Message size":
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 * A receive of n messages can bring n times this.
 */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

const MiB = 1_048_576;

/** What reading a message in a receive's answer costs, as a multiple of its size (measured about 10, see above). */
const RECEIVE_FACTOR = 12;

/**
 * Memory a receive reserves for each message it asks for, bytes, until its answer is in: the largest
 * message the queue accepts times what reading it costs (see above).
 *
 * @param maximumMessageSize the queue's `MaximumMessageSize` attribute, bytes (1,024 to 1,048,576; SQS
 *   rejects a larger message, body and attributes together: SQS API Reference, SetQueueAttributes,
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html).
 *   Defaults to SQS's largest message, what is charged while the queue's maximum is not known; a value
 *   past SQS's largest, or not a positive number, is charged as SQS's largest.
 */
export function receiveChargeBytes(maximumMessageSize: number = SQS_MAX_MESSAGE_BYTES): number {
  return RECEIVE_FACTOR * largestMessageBytes(maximumMessageSize);
}

/**
 * The largest message a queue can hold, bytes: its `MaximumMessageSize`, capped at SQS's largest; SQS's
 * largest for a value that is not a positive number.
 */
export function largestMessageBytes(maximumMessageSize: number = SQS_MAX_MESSAGE_BYTES): number {
  return Number.isFinite(maximumMessageSize) && maximumMessageSize > 0
    ? Math.min(Math.ceil(maximumMessageSize), SQS_MAX_MESSAGE_BYTES)
    : SQS_MAX_MESSAGE_BYTES;
}

/** What a receive reserves per message while the queue's maximum message size is not known: `receiveChargeBytes()`. */
export const RECEIVE_CHARGE_BYTES = receiveChargeBytes();

/** What one held message costs besides its text: the SDK's objects, the consumer's entry, its abort signal. */
export const HELD_OVERHEAD_BYTES = 4_096;

/** The share of a held message's text added for copies and garbage (measured 1.3, see above). */
const HELD_FACTOR = 1.5;

/**
 * Memory a held message is charged, bytes, from what its text takes in V8's heap (`textBytes`: one
 * byte per character for Latin-1 text, two otherwise; see consumer/src/memory.ts `messageTextBytes`).
 */
export function heldChargeBytes(textBytes: number): number {
  return Math.ceil(textBytes * HELD_FACTOR) + HELD_OVERHEAD_BYTES;
}

/**
 * What the process needs before any message: code, the SDK, the heap's baseline and the young
 * generation's working room (an idle consumer is charged about 30 MiB by its cgroup).
 */
const BASELINE_MiB = 40;
/** Head-room left under the limit for what no charge counts (the handler's own allocations, timing of collections). */
const HEADROOM_SHARE = 0.2;

/**
 * The memory budget for messages, bytes, for a container memory limit in MiB: what receives in progress
 * and held messages may be charged at once. 0 when the limit leaves nothing beyond the process's own needs.
 */
export function messageMemoryBudgetBytes(memoryLimitMiB: number): number {
  return Math.max(0, Math.floor((memoryLimitMiB * (1 - HEADROOM_SHARE) - BASELINE_MiB) * MiB));
}

/** What a memory limit allows with messages of the largest size a queue holds, by `messagesOfLargestSize`. */
export interface LargestMessages {
  /** The budget, MiB (rounded down). */
  readonly budgetMiB: number;
  /**
   * The most messages of the largest size held at once: a receive asks for one more while its charge
   * fits beside those held.
   */
  readonly held: number;
  /** The most messages of the largest size one receive asks for while nothing is held. */
  readonly perReceive: number;
}

/**
 * How many messages of the largest size a queue holds (Latin-1 text) the consumer holds and receives at
 * once under a memory limit in MiB. `maximumMessageSize` is the queue's MaximumMessageSize, bytes (see
 * `largestMessageBytes`; default SQS's largest, 1 MiB). `held` 0 means the budget cannot hold one
 * receive of one such message: the consumer still takes one at a time (it must make progress), and may
 * run out of memory.
 */
export function messagesOfLargestSize(
  memoryLimitMiB: number,
  maximumMessageSize: number = SQS_MAX_MESSAGE_BYTES,
): LargestMessages {
  const budget = messageMemoryBudgetBytes(memoryLimitMiB);
  const receive = receiveChargeBytes(maximumMessageSize);
  const held = heldChargeBytes(largestMessageBytes(maximumMessageSize));
  return {
    budgetMiB: Math.floor(budget / MiB),
    held: budget < receive ? 0 : Math.floor((budget - receive) / held) + 1,
    perReceive: Math.floor(budget / receive),
  };
}
