/**
 * The queue the consumer reads and its dead-letter queue: encrypted at rest with SQS-managed keys (so the
 * consumer needs no KMS permission), reachable over TLS only, long-polled, and with a redrive policy that
 * moves a message to the DLQ after `maxReceiveCount` failed receives. Both standard, or both FIFO: SQS
 * requires a FIFO queue's dead-letter queue to be FIFO (SQS Developer Guide, "Using dead-letter queues").
 *
 * Both hold messages. A long-lived stack protects and retains them (infra/lifecycle.ts): the engine refuses to
 * delete or replace them, and a replacement allowed on purpose leaves the old queues, messages and all, in AWS.
 * No deleteBeforeReplace: every change that replaces a queue changes its name (name and FIFO type are the only
 * properties that force it), so the new queue is created, and everything moved to it, before the old one goes.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { queueVisibilityTimeoutSeconds, type Tunables } from "../consumer/src/contract";
import type { LifecycleConfig, QueueConfig } from "./config";
import { denyInsecureTransportPolicy } from "./iam-documents";
import { queueStateOptions } from "./lifecycle";
import { sqsQueueName, type NameScope } from "./names";

/** The longest long poll SQS allows; the queue's default for receivers that do not ask for one. */
export const QUEUE_RECEIVE_WAIT_SECONDS = 20;

export interface ConsumerQueueArgs {
  /**
   * Project and stack: the queues are `<project>-<stack>-queue` and `<project>-<stack>-dlq` (`.fifo` added
   * for FIFO queues), within SQS's 80 characters (infra/names.ts).
   */
  readonly scope: NameScope;
  /**
   * Type (both queues standard, or both FIFO), FIFO deduplication and throughput, receives before a message
   * moves to the dead-letter queue, and each queue's retention (s); validated by infra/config/queue.ts.
   */
  readonly config: QueueConfig;
  /** The consumer's handler timeout (s), from which the queue's visibility timeout is derived. */
  readonly tunables: Pick<Tunables, "handlerTimeoutSeconds">;
  /** Long-lived or ephemeral, and whether this update may replace the queues: their protect and retainOnDelete. */
  readonly lifecycle: LifecycleConfig;
  /** Tags for both queues. */
  readonly tags: Readonly<Record<string, string>>;
}

/** The physical names of the queue and its dead-letter queue: `<project>-<stack>-queue`, `-dlq`, `.fifo` on FIFO queues. */
export function consumerQueueNames(
  scope: NameScope,
  type: QueueConfig["type"],
): { readonly queueName: string; readonly deadLetterQueueName: string } {
  const fifo = type === "fifo";
  return { queueName: sqsQueueName(scope, "queue", fifo), deadLetterQueueName: sqsQueueName(scope, "dlq", fifo) };
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

/** The queue and its dead-letter queue, the redrive-allow policy and a TLS-only policy on each. */
export class ConsumerQueue extends pulumi.ComponentResource {
  /** Physical name of the queue. */
  readonly queueName: string;
  /** Physical name of the dead-letter queue. */
  readonly deadLetterQueueName: string;
  readonly url: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly deadLetterQueueArn: pulumi.Output<string>;
  private readonly fifo: FifoQueueArgs | undefined;

  constructor(name: string, args: ConsumerQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:queue:ConsumerQueue", name, {}, opts);
    const { config } = args;
    const fifo = config.type === "fifo";
    this.fifo = fifo
      ? { contentBasedDeduplication: config.contentBasedDeduplication, highThroughput: config.highThroughput }
      : undefined;
    ({ queueName: this.queueName, deadLetterQueueName: this.deadLetterQueueName } = consumerQueueNames(
      args.scope,
      config.type,
    ));
    const stateOptions = queueStateOptions(args.lifecycle);

    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: this.deadLetterQueueName,
        ...(fifo ? { fifoQueue: true } : {}),
        sqsManagedSseEnabled: true,
        // As large as the queue's: a message the queue accepted must fit where the redrive moves it.
        maxMessageSize: config.maxMessageSizeBytes,
        messageRetentionSeconds: config.dlqMessageRetentionSeconds,
        receiveWaitTimeSeconds: QUEUE_RECEIVE_WAIT_SECONDS,
        tags: args.tags,
      },
      { parent: this, ...stateOptions },
    );

    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: this.queueName,
        ...fifoQueueAttributes(this.fifo),
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: queueVisibilityTimeoutSeconds(args.tunables),
        maxMessageSize: config.maxMessageSizeBytes,
        messageRetentionSeconds: config.messageRetentionSeconds,
        receiveWaitTimeSeconds: QUEUE_RECEIVE_WAIT_SECONDS,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: deadLetterQueue.arn,
          maxReceiveCount: config.maxReceiveCount,
        }),
        tags: args.tags,
      },
      { parent: this, ...stateOptions },
    );

    // Only this queue may dead-letter into the DLQ.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: deadLetterQueue.url,
        redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }),
      },
      // A queue replaced under allowQueueReplacement is retained with its messages: its policies stay with it.
      { parent: this, retainOnDelete: stateOptions.retainOnDelete },
    );

    for (const [role, target] of [
      ["queue", queue],
      ["dlq", deadLetterQueue],
    ] as const) {
      new aws.sqs.QueuePolicy(
        `${name}-${role}-tls-only`,
        { queueUrl: target.url, policy: pulumi.jsonStringify(target.arn.apply(denyInsecureTransportPolicy)) },
        { parent: this, retainOnDelete: stateOptions.retainOnDelete },
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

  /**
   * An `aws sqs send-message` command that puts 'Hello world!' on the queue; on a FIFO queue with a message
   * group, and a deduplication id unless the queue deduplicates by content.
   */
  sendTestMessageCommand(region: string): pulumi.Output<string> {
    const fifoOptions =
      this.fifo === undefined
        ? ""
        : ` --message-group-id g1${this.fifo.contentBasedDeduplication ? "" : " --message-deduplication-id $(date +%s%N)"}`;
    return pulumi.interpolate`aws sqs send-message --region ${region} --queue-url ${this.url} --message-body 'Hello world!'${fifoOptions}`;
  }
}
