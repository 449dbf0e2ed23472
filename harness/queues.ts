// Queues for the runs, made, filled and read by the orchestrator's own client (whose requests are never
// counted as a run's).
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createQueueWithDlq, type QueuePair } from "../consumer/local/emulator";
import { DEFAULT_TUNABLES } from "../consumer/src/settings";

/** Sends in flight at once while pre-loading. */
const SEND_CONCURRENCY = 16;
/** As the Pulumi program's default. */
const MAX_RECEIVE_COUNT = 5;
/** GetQueueAttributes gets this long before the reading counts as failed (KEDA's HTTP client has a deadline too). */
const READ_TIMEOUT_MS = 5_000;

/**
 * The MaximumMessageSize of a queue of `messageBody` messages (about 200 bytes): 262,144 bytes, the
 * program's default `maxMessageSizeBytes` (the AWS provider's default, and SQS's largest before August
 * 2025; SQS Developer Guide, message quotas).
 * The consumer charges each message a receive asks for by it (consumer/src/memory.ts).
 */
export const SMALL_MESSAGE_QUEUE_MAXIMUM_BYTES = 262_144;

/**
 * A queue and its DLQ configured as the Pulumi program configures them for default settings, the queue
 * accepting messages up to `maximumMessageSize` bytes (its MaximumMessageSize attribute; default
 * SMALL_MESSAGE_QUEUE_MAXIMUM_BYTES, for `messageBody` messages; 1,048,576 for messages of SQS's largest size).
 */
export function createRunQueue(
  sqs: SQSClient,
  name: string,
  maximumMessageSize: number = SMALL_MESSAGE_QUEUE_MAXIMUM_BYTES,
): Promise<QueuePair> {
  return createQueueWithDlq(sqs, name, DEFAULT_TUNABLES, MAX_RECEIVE_COUNT, false, maximumMessageSize);
}

/** A ~200-byte JSON body, like a small event. */
export function messageBody(index: number): string {
  return JSON.stringify({
    type: "order.created",
    index,
    customer: `c-${index % 997}`,
    items: [{ sku: "sku-123", quantity: 1 + (index % 5) }],
    note: "x".repeat(96),
  });
}

/** Sends `count` messages (`messageBody(0..count-1)`) in batches of 10, 16 batches in flight at once. */
export async function preload(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + 10);
      const entries = Array.from({ length: next - first }, (_, i) => ({
        Id: String(i),
        MessageBody: messageBody(first + i),
      }));
      const { Failed: failed = [] } = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      if (failed.length > 0) throw new Error(`pre-loading failed: ${JSON.stringify(failed)}`);
    }
  };
  await Promise.all(Array.from({ length: SEND_CONCURRENCY }, sender));
}

/** The queue's approximate message counts, as KEDA's aws-sqs-queue scaler reads them. */
export interface QueueAttributes {
  /** ApproximateNumberOfMessages. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and not yet deleted (in flight). */
  readonly notVisible: number;
  /** ApproximateNumberOfMessagesDelayed. */
  readonly delayed: number;
}

/** Reads the three approximate counts with one GetQueueAttributes call, with a deadline. */
export async function readQueueAttributes(sqs: SQSClient, queueUrl: string): Promise<QueueAttributes> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
    { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) },
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages),
    notVisible: Number(a.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed),
  };
}

/** Messages the queue holds in any state. */
export async function messagesHeld(sqs: SQSClient, queueUrl: string): Promise<number> {
  const a = await readQueueAttributes(sqs, queueUrl);
  return a.visible + a.notVisible + a.delayed;
}

export async function deleteRunQueue(sqs: SQSClient, queue: QueuePair): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.dlqUrl }));
}
