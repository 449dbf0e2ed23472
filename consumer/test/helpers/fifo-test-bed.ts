import { after } from "node:test";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { EMULATOR_CREDENTIALS } from "../../local/emulator";
import { startFifoSqs, type FifoSqs, type FifoSqsOptions } from "./fifo-sqs";

/** The FIFO stand-in (fifo-sqs.ts) with a fresh queue and DLQ of one type, and a consumer environment for them. */
export interface FifoTestBed {
  readonly stand: FifoSqs;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueName: string;
  readonly dlqUrl: string;
  /** Environment for a consumer of this queue, reaching the stand-in like any SDK user would. */
  readonly env: Record<string, string>;
  /** Sends one group's bodies in order (batches of 10); on FIFO queues each body is its own deduplication id. */
  send(groupId: string, bodies: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

let beds = 0;

export async function startFifoTestBed(
  options: FifoSqsOptions & { fifo?: boolean; maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<FifoTestBed> {
  const fifo = options.fifo ?? true;
  const stand = await startFifoSqs(options);
  const sqs = new SQSClient({ endpoint: stand.endpoint, region: "us-east-1", credentials: EMULATOR_CREDENTIALS });
  const suffix = fifo ? ".fifo" : "";
  const base = `bed-${process.pid}-${++beds}`;
  const type = fifo ? { FifoQueue: "true" } : {};
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${base}-dlq${suffix}`, Attributes: type }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueName = `${base}${suffix}`;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: queueName,
      Attributes: {
        ...type,
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl!;
  return {
    stand,
    sqs,
    queueUrl,
    queueName,
    dlqUrl: dlq.QueueUrl!,
    env: {
      QUEUE_URL: queueUrl,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SQS: stand.endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      HEALTH_PORT: "0",
    },
    async send(groupId, bodies) {
      for (let i = 0; i < bodies.length; i += 10) {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: bodies.slice(i, i + 10).map((body, j) => ({
              Id: String(j),
              MessageBody: body,
              MessageGroupId: groupId,
              ...(fifo ? { MessageDeduplicationId: body } : {}),
            })),
          }),
        );
        if (result.Failed?.length) throw new Error(`send failed: ${JSON.stringify(result.Failed)}`);
      }
    },
    async close() {
      sqs.destroy();
      await stand.close();
    },
  };
}

/**
 * For a `describe` block: a function that starts a FIFO test bed (options as `startFifoTestBed`'s) and
 * closes every bed it started once the block's tests are done.
 */
export function fifoBeds(): (options?: Parameters<typeof startFifoTestBed>[0]) => Promise<FifoTestBed> {
  const beds: FifoTestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));
  return async (options) => {
    const b = await startFifoTestBed(options);
    beds.push(b);
    return b;
  };
}
