/** The queue concern (QUEUE_KEYS): redrive and retention of the queue and its dead-letter queue. */
import type { SettingProblem } from "../../consumer/src/contract";
import { fullKey } from "./keys";
import type { ConfigInput } from "./parse";

export interface QueueConfig {
  readonly maxReceiveCount: number;
  readonly messageRetentionSeconds: number;
  readonly dlqMessageRetentionSeconds: number;
}

/** The queue's settings; a dead-letter retention shorter than the queue's is a problem. */
export function readQueue(input: ConfigInput, problems: SettingProblem[]): QueueConfig {
  const { maxReceiveCount, messageRetentionSeconds, dlqMessageRetentionSeconds } = input.values;
  const queue: QueueConfig = { maxReceiveCount, messageRetentionSeconds, dlqMessageRetentionSeconds };
  // SQS keeps a dead-lettered message's original enqueue time, so a shorter DLQ retention loses messages early.
  if (queue.dlqMessageRetentionSeconds < queue.messageRetentionSeconds) {
    problems.push({
      key: fullKey("dlqMessageRetentionSeconds"),
      reason: `${queue.dlqMessageRetentionSeconds} is below messageRetentionSeconds (${queue.messageRetentionSeconds}); dead-lettered messages would expire early`,
    });
  }
  return queue;
}
