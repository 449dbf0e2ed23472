// Queues for the runs, made and filled by the orchestrator's own client (its requests are never counted).
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

/** A queue and its DLQ configured as the Pulumi program configures them for default settings. */
export function createRunQueue(sqs: SQSClient, name: string): Promise<QueuePair> {
  return createQueueWithDlq(sqs, name, DEFAULT_TUNABLES, MAX_RECEIVE_COUNT);
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

/** Messages the queue holds in any state. */
export async function messagesHeld(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return (
    Number(a.ApproximateNumberOfMessages) +
    Number(a.ApproximateNumberOfMessagesNotVisible) +
    Number(a.ApproximateNumberOfMessagesDelayed)
  );
}

export async function deleteRunQueue(sqs: SQSClient, queue: QueuePair): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.dlqUrl }));
}
