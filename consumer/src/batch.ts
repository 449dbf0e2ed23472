import { partition } from "@aws-sdk/core/client";
import type { SQSEvent, SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { ReceivedMessage } from "./handler";

/**
 * Batch handlers (the Lambda form): the event a batch handler is given, how its answer is read, and how
 * messages are gathered into batches.
 *
 * Sources for Lambda's behaviour, which this module reproduces:
 * - the event's shape: `@types/aws-lambda` trigger/sqs.d.ts, and the example events of "Using Lambda
 *   with Amazon SQS" (Lambda developer guide);
 * - reading the answer: "Handling errors for an SQS event source in Lambda", success and failure
 *   conditions of a partial batch response;
 * - FIFO queues: the same page (stop at the first failure, report it and every later message), and
 *   Powertools for AWS Lambda's SqsFifoPartialProcessor (with `skipGroupOnError`, the rule per group);
 * - batch size and window: "Lambda parameters for Amazon SQS event source mappings".
 */

/** The `eventSource` of every SQS record Lambda delivers. */
export const SQS_EVENT_SOURCE = "aws:sqs";

/** Where a batch's messages come from: the queue's ARN and region, as Lambda names them in each record. */
export interface EventSource {
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/**
 * The queue's ARN from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or any host with
 * that path, such as an emulator's) and region: `arn:<partition>:sqs:<region>:<account>:<name>`, the
 * partition the SDK's own endpoint table gives for the region (`aws`, `aws-cn`, `aws-us-gov`, ...).
 */
export function eventSource(queueUrl: string, region: string): EventSource {
  const [account = "", name = ""] = new URL(queueUrl).pathname.split("/").filter(Boolean);
  return { eventSourceARN: `arn:${partition(region).name}:sqs:${region}:${account}:${name}`, awsRegion: region };
}

/**
 * One message as a record of Lambda's SQS event: SQS's system attributes as strings, message attributes
 * in Lambda's lower-case shape (Binary values base64-encoded, the list values Lambda reserves empty),
 * their digest `md5OfMessageAttributes` when SQS sent one, and the receipt handle the message was last
 * received with.
 */
export function toSqsRecord(message: ReceivedMessage, receiptHandle: string, source: EventSource): SQSRecord {
  const messageAttributes: Record<string, SQSMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? "String",
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle,
    body: message.body,
    // The attributes SQS sent, as it sent them: a queue or emulator that leaves one out leaves it out here.
    attributes: message.attributes as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.md5OfBody,
    // Optional in the record type, and present in Lambda's events when the message has attributes
    // (`@types/aws-lambda` SQSRecord; Powertools for AWS Lambda's SqsSchema).
    ...(message.md5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.md5OfMessageAttributes }),
    eventSource: SQS_EVENT_SOURCE,
    eventSourceARN: source.eventSourceARN,
    awsRegion: source.awsRegion,
  };
}

/** A batch's event: its messages' records, in the order SQS delivered them. */
export function toSqsEvent(
  messages: readonly { readonly message: ReceivedMessage; readonly receiptHandle: string }[],
  source: EventSource,
): SQSEvent {
  return { Records: messages.map(({ message, receiptHandle }) => toSqsRecord(message, receiptHandle, source)) };
}

/** What a batch handler's answer means: the message ids to deliver again, or why the whole batch fails. */
export type BatchAnswer =
  { readonly ok: true; readonly failed: ReadonlySet<string> } | { readonly ok: false; readonly reason: string };

/**
 * Reads a batch handler's answer as Lambda reads a partial batch response, once through JSON as Lambda
 * serialises it (toJSON, own enumerable properties; a value JSON cannot hold fails the batch). A complete success: no
 * answer (undefined, null), an object without `batchItemFailures`, or with it null or empty. A complete
 * failure: an answer that is not an object, `batchItemFailures` that is not a list, an entry that is not
 * an object, an `itemIdentifier` that is missing, null, empty, not a string, or not the id of a message
 * of this batch. Otherwise the listed messages failed.
 */
export function readBatchAnswer(given: unknown, messageIds: ReadonlySet<string>): BatchAnswer {
  // Lambda reads the answer as JSON: through toJSON, own enumerable properties only, functions and
  // undefined dropped. A value JSON cannot hold (a BigInt, a cycle) fails the invocation there too.
  let answer: unknown;
  try {
    const json = JSON.stringify(given);
    answer = json === undefined ? undefined : (JSON.parse(json) as unknown);
  } catch (error) {
    return {
      ok: false,
      reason: `the answer cannot be serialised to JSON, as Lambda does: ${(error as Error).message}`,
    };
  }
  if (answer === undefined || answer === null) return { ok: true, failed: new Set() };
  if (typeof answer !== "object" || Array.isArray(answer))
    return { ok: false, reason: `the answer is ${describe(answer)}, not an object with batchItemFailures` };
  const failures = (answer as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { ok: true, failed: new Set() };
  if (!Array.isArray(failures)) return { ok: false, reason: `batchItemFailures is ${describe(failures)}, not a list` };
  const failed = new Set<string>();
  for (const [i, failure] of failures.entries()) {
    if (typeof failure !== "object" || failure === null)
      return { ok: false, reason: `batchItemFailures[${i}] is ${describe(failure)}, not { itemIdentifier }` };
    const id = (failure as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== "string" || id === "")
      return { ok: false, reason: `batchItemFailures[${i}].itemIdentifier is ${describe(id)}, not a message id` };
    if (!messageIds.has(id))
      return { ok: false, reason: `batchItemFailures[${i}].itemIdentifier "${id}" is not a message of this batch` };
    failed.add(id);
  }
  return { ok: true, failed };
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return value === "" ? "empty" : `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}

/**
 * What becomes of one message of a batch: `succeeded` (deleted), `failed` (delivered again after its
 * retry delay), or `behind`: on a FIFO queue, after a failed message of its group, so delivered again
 * with it whatever the handler said of it, to keep the group's order.
 */
export type BatchVerdict = "succeeded" | "failed" | "behind";

/**
 * The verdict for each message of a batch, in batch order, from the ids that failed (`all` when the whole
 * batch failed). On a FIFO queue (`fifo`), a group's first failure is `failed` and every later message of
 * its group `behind`, as Lambda requires of a FIFO handler (and Powertools' SqsFifoPartialProcessor with
 * skipGroupOnError enforces); other groups keep their verdicts. On a standard queue a message's group id
 * orders nothing, and each message stands alone.
 */
export function batchVerdicts(
  messages: readonly { readonly messageId: string; readonly groupId: string | undefined }[],
  failed: ReadonlySet<string> | "all",
  fifo: boolean,
): BatchVerdict[] {
  const stopped = new Set<string>();
  return messages.map(({ messageId, groupId }) => {
    const group = groupId ?? "";
    if (fifo && stopped.has(group)) return "behind";
    if (failed !== "all" && !failed.has(messageId)) return "succeeded";
    if (fifo) stopped.add(group);
    return "failed";
  });
}

/**
 * Gathers messages into batches of at most `size`, like Lambda's BatchSize and
 * MaximumBatchingWindowInSeconds: a batch runs as soon as it is full; with a window of 0 it runs with
 * what one `add` brought (one receive); otherwise it runs when the window, counted from its first
 * message, ends. Messages come in runs that stay together in one batch (a FIFO group's messages, in
 * order: two batches of one group must not run at once); a run is never longer than `size`.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param size most messages per batch (BATCH_SIZE)
   * @param windowMs how long a batch gathers messages before it runs (BATCH_WINDOW_SECONDS, in ms)
   * @param run called with each batch, in the order the batches close
   */
  constructor(
    private readonly size: number,
    private readonly windowMs: number,
    private readonly run: (batch: T[]) => void,
  ) {}

  /** Messages gathered and not yet run. */
  get gathering(): readonly T[] {
    return this.pending;
  }

  /** Adds runs of messages, each kept whole in one batch; runs what is full, and with no window, the rest. */
  add(runs: readonly (readonly T[])[]): void {
    for (const run of runs) {
      if (run.length > this.size)
        throw new RangeError(`a run of ${run.length} messages exceeds the batch size ${this.size}`);
      if (this.pending.length + run.length > this.size) this.flush();
      this.pending.push(...run);
      if (this.pending.length === this.size) this.flush();
    }
    if (this.pending.length === 0) return;
    if (this.windowMs === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Shutdown: takes out the messages gathered and not run; nothing gathered runs after this. */
  take(): T[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.pending.splice(0);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.run(batch);
  }
}
