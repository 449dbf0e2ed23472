import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** What the start-up log says about the queue: enough to spot a queue without a DLQ. */
export interface QueueInfo {
  readonly arn?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly deadLetterTargetArn?: string;
  readonly maxReceiveCount?: number;
  /** The FifoQueue attribute is "true" (SQS leaves it out for standard queues). */
  readonly fifo: boolean;
}

export async function describeQueue(sqs: SQSClient, queueUrl: string): Promise<QueueInfo> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["QueueArn", "VisibilityTimeout", "RedrivePolicy", "FifoQueue"],
    }),
  );
  const redrive = a.RedrivePolicy
    ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string })
    : undefined;
  return {
    ...(a.QueueArn ? { arn: a.QueueArn } : {}),
    ...(a.VisibilityTimeout ? { visibilityTimeoutSeconds: Number(a.VisibilityTimeout) } : {}),
    ...(redrive?.deadLetterTargetArn ? { deadLetterTargetArn: redrive.deadLetterTargetArn } : {}),
    fifo: a.FifoQueue === "true",
    ...(redrive?.maxReceiveCount !== undefined ? { maxReceiveCount: Number(redrive.maxReceiveCount) } : {}),
  };
}
