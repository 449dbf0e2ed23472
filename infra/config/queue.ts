/**
 * The queue concern (QUEUE_KEYS): type, deduplication and throughput mode, redrive, largest message and
 * retention of the queue and its dead-letter queue.
 *
 * A dead-letter retention shorter than the queue's is rejected here, at preview; the FIFO-only keys set on a
 * standard queue (SQS rejects ContentBasedDeduplication there) are rejected with every other key that would
 * do nothing (applies-when.ts). The FIFO-only attributes are only ever set on FIFO queues. High-throughput mode sets both of its attributes together, the only pairing SQS documents
 * for it (SQS Developer Guide, "High throughput for FIFO queues"), so the pair can never be half set.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { QUEUE_TYPES, type QueueType } from "./keys";
import { checkEnum, type ConfigInput } from "./parse";

export interface QueueConfig {
  /** standard, or fifo (queue and dead-letter queue both FIFO). */
  readonly type: QueueType;
  /** FIFO only: deduplicate sends without a deduplication id by their body's SHA-256. */
  readonly contentBasedDeduplication: boolean;
  /** FIFO only: deduplicationScope messageGroup and fifoThroughputLimit perMessageGroupId. */
  readonly highThroughput: boolean;
  readonly maxReceiveCount: number;
  /** The largest message the queue and its dead-letter queue accept, bytes (MaximumMessageSize). */
  readonly maxMessageSizeBytes: number;
  readonly messageRetentionSeconds: number;
  readonly dlqMessageRetentionSeconds: number;
}

/** The queue's settings, with a problem for each combination SQS would reject. */
export function readQueue(input: ConfigInput, problems: SettingProblem[]): QueueConfig {
  const {
    queueType,
    contentBasedDeduplication,
    fifoHighThroughput,
    maxReceiveCount,
    maxMessageSizeBytes,
    messageRetentionSeconds,
    dlqMessageRetentionSeconds,
  } = input.values;
  const type = checkEnum(input, "queueType", queueType, QUEUE_TYPES, problems) ?? "standard";
  const queue: QueueConfig = {
    type,
    contentBasedDeduplication,
    highThroughput: fifoHighThroughput,
    maxReceiveCount,
    maxMessageSizeBytes,
    messageRetentionSeconds,
    dlqMessageRetentionSeconds,
  };
  // SQS keeps a dead-lettered message's original enqueue time, so a shorter DLQ retention loses messages early.
  if (queue.dlqMessageRetentionSeconds < queue.messageRetentionSeconds) {
    problems.push({
      key: input.key("dlqMessageRetentionSeconds"),
      reason: `${queue.dlqMessageRetentionSeconds} is below messageRetentionSeconds (${queue.messageRetentionSeconds}); dead-lettered messages would expire early`,
    });
  }
  return queue;
}
