/**
 * The queue the consumer reads and its dead-letter queue: encrypted at rest with SQS-managed keys (so the
 * consumer needs no KMS permission), reachable over TLS only, long-polled, and with a redrive policy that
 * moves a message to the DLQ after `maxReceiveCount` failed receives. Both standard, or both FIFO: SQS
 * requires a FIFO queue's dead-letter queue to be FIFO (SQS Developer Guide, "Using dead-letter queues").
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransportPolicy } from "./iam-documents";

/** The longest long poll SQS allows; the queue's default for receivers that do not ask for one. */
export const QUEUE_RECEIVE_WAIT_SECONDS = 20;

export interface ConsumerQueueArgs {
  /** Physical name of the queue (up to 80 characters). */
  readonly queueName: string;
  /** Physical name of the dead-letter queue (up to 80 characters). */
  readonly deadLetterQueueName: string;
  /** Visibility timeout of the queue (s), derived from the consumer's handler timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** How long the queue keeps a message (s). */
  readonly messageRetentionSeconds: number;
  /** How long the dead-letter queue keeps a message (s); at least messageRetentionSeconds. */
  readonly deadLetterRetentionSeconds: number;
  /** Receives after which a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Makes both queues FIFO (their names must end in `.fifo`); undefined for standard queues. */
  readonly fifo?: FifoQueueArgs;
  /** Tags for both queues. */
  readonly tags: Readonly<Record<string, string>>;
}

/** FIFO settings of the queue. */
export interface FifoQueueArgs {
  /** Deduplicate sends without MessageDeduplicationId by the SHA-256 of their body. */
  readonly contentBasedDeduplication: boolean;
  /** High-throughput mode: deduplication scope and throughput limit per message group. */
  readonly highThroughput: boolean;
}

/** The FIFO attributes of the main queue (aws.sqs.Queue inputs); none for a standard queue. */
export function fifoQueueAttributes(
  fifo: FifoQueueArgs | undefined,
): Pick<aws.sqs.QueueArgs, "fifoQueue" | "contentBasedDeduplication" | "deduplicationScope" | "fifoThroughputLimit"> {
  if (fifo === undefined) return {};
  return {
    fifoQueue: true,
    contentBasedDeduplication: fifo.contentBasedDeduplication,
    deduplicationScope: fifo.highThroughput ? "messageGroup" : "queue",
    fifoThroughputLimit: fifo.highThroughput ? "perMessageGroupId" : "perQueue",
  };
}

export class ConsumerQueue extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly deadLetterQueueArn: pulumi.Output<string>;

  constructor(name: string, args: ConsumerQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:queue:ConsumerQueue", name, {}, opts);

    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: args.deadLetterQueueName,
        ...(args.fifo ? { fifoQueue: true } : {}),
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: args.deadLetterRetentionSeconds,
        receiveWaitTimeSeconds: QUEUE_RECEIVE_WAIT_SECONDS,
        tags: args.tags,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: args.queueName,
        ...fifoQueueAttributes(args.fifo),
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
        messageRetentionSeconds: args.messageRetentionSeconds,
        receiveWaitTimeSeconds: QUEUE_RECEIVE_WAIT_SECONDS,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: deadLetterQueue.arn,
          maxReceiveCount: args.maxReceiveCount,
        }),
        tags: args.tags,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    // Only this queue may dead-letter into the DLQ.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: deadLetterQueue.url,
        redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }),
      },
      { parent: this },
    );

    for (const [role, target] of [
      ["queue", queue],
      ["dlq", deadLetterQueue],
    ] as const) {
      new aws.sqs.QueuePolicy(
        `${name}-${role}-tls-only`,
        { queueUrl: target.url, policy: pulumi.jsonStringify(target.arn.apply(denyInsecureTransportPolicy)) },
        { parent: this },
      );
    }

    this.url = queue.url;
    this.arn = queue.arn;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.deadLetterQueueArn = deadLetterQueue.arn;
    this.registerOutputs({
      url: this.url,
      arn: this.arn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      deadLetterQueueArn: this.deadLetterQueueArn,
    });
  }
}
