import { randomUUID } from "node:crypto";
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { SQSEvent } from "aws-lambda";
import { eventSource, toSqsEvent } from "./batch";
import { md5OfBody, md5OfMessageAttributes } from "./dispatch";
import { toReceivedMessage, type BatchHandlerContext, type MessageAttribute, type ReceivedMessage } from "./handler";
import { createLogger } from "./logger";
import { describeProblems, parseSettings, type EnvLike } from "./settings";

/**
 * Test a handler without a queue or an emulator: a received message (for handleMessage) or an AWS Lambda
 * SQS event (for handleBatch) made from bodies and attributes the way the consumer makes them from what
 * SQS sends (digests computed, system attributes as strings), and a context that keeps what the handler
 * logged. consumer/handler.test.ts shows them in use.
 */

/** The queue the made-up messages come from, unless a test names one (a FIFO one ends in `.fifo`). */
export const TEST_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/sqs-eks-consumer-test";

/** A message as a test describes it: a body, and what SQS would tell about it. All but `body` optional. */
export interface MessageInput {
  readonly body: string;
  /** Default: a new UUID. */
  readonly messageId?: string;
  /** ApproximateReceiveCount: default 1, the first delivery. */
  readonly receiveCount?: number;
  /** MessageGroupId (FIFO queues, or a fair-queue group). */
  readonly groupId?: string;
  /** MessageDeduplicationId (FIFO queues). */
  readonly deduplicationId?: string;
  /** SequenceNumber (FIFO queues). */
  readonly sequenceNumber?: string;
  /** More system attributes, or other values for those above (SentTimestamp, AWSTraceHeader, ...). */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * Message attributes: a string is a String attribute; otherwise as SQS sends them, DataType derived when
   * left out (Binary with a BinaryValue, else String); one SQS would not send throws a TypeError.
   */
  readonly messageAttributes?: Readonly<Record<string, string | MessageAttribute>>;
}

/** A received message, as handleMessage is given it: from a body alone, or from a MessageInput. */
export function receivedMessage(input: string | MessageInput): ReceivedMessage {
  return toReceivedMessage(sqsMessage(input));
}

/**
 * An AWS Lambda SQS event, as handleBatch is given it: one record per input, in order, from the queue
 * `queueUrl` (default TEST_QUEUE_URL; its region is the one the URL names, else us-east-1).
 */
export function sqsEvent(inputs: readonly (string | MessageInput)[], options: { queueUrl?: string } = {}): SQSEvent {
  const queueUrl = options.queueUrl ?? TEST_QUEUE_URL;
  const region = /^sqs\.([a-z0-9-]+)\./.exec(new URL(queueUrl).hostname)?.[1] ?? "us-east-1";
  const messages = inputs.map((input) => {
    const raw = sqsMessage(input);
    return { message: toReceivedMessage(raw), receiptHandle: raw.ReceiptHandle ?? "" };
  });
  return toSqsEvent(messages, eventSource(queueUrl, region));
}

/** A handler context for tests: what either form is given, and what the handler logged. */
export interface TestContext extends BatchHandlerContext {
  /** Each line the handler logged, parsed (`msg` is the message, the rest its fields). */
  readonly logs: Record<string, unknown>[];
  /** Aborts `signal`, as the hard limit or shutdown would. */
  abort(reason?: unknown): void;
}

/**
 * A context for calling a handler in a test: the consumer's settings from `env` (QUEUE_URL defaults to
 * TEST_QUEUE_URL; throws naming every bad variable), a logger whose lines are kept in `logs`, a signal the
 * test can abort, and the hard limit (HANDLER_TIMEOUT_SECONDS) counted from now.
 */
export function testContext(options: { env?: EnvLike } = {}): TestContext {
  const parsed = parseSettings({ QUEUE_URL: TEST_QUEUE_URL, ...options.env });
  if (!parsed.ok) throw new Error(`invalid test settings: ${describeProblems(parsed.problems)}`);
  const settings = parsed.value;
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(settings.logLevel, {
    write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  const controller = new AbortController();
  const deadline = Date.now() + settings.handlerTimeoutSeconds * 1000;
  return {
    signal: controller.signal,
    logger,
    settings,
    traceContext: ROOT_CONTEXT,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    logs,
    abort: (reason?: unknown) => controller.abort(reason),
  };
}

/**
 * One message attribute as SQS sends it: a string is a String attribute; without a DataType, one with a
 * BinaryValue is Binary, else String. Throws a TypeError for a value SQS would not send: a Binary type
 * (`Binary`, `Binary.gif`) without a BinaryValue, another type without a StringValue, or both values
 * (API reference, MessageAttributeValue).
 */
function attributeValue(name: string, value: string | MessageAttribute): MessageAttributeValue {
  if (typeof value === "string") return { DataType: "String", StringValue: value };
  const DataType = value.DataType ?? (value.BinaryValue === undefined ? "String" : "Binary");
  const binary = DataType.startsWith("Binary");
  if (value.BinaryValue !== undefined && value.StringValue !== undefined)
    throw new TypeError(`message attribute ${name}: give a StringValue or a BinaryValue, not both`);
  if (binary && value.BinaryValue === undefined)
    throw new TypeError(`message attribute ${name}: DataType ${DataType} needs a BinaryValue`);
  if (!binary && value.StringValue === undefined)
    throw new TypeError(`message attribute ${name}: DataType ${DataType} needs a StringValue`);
  return { ...value, DataType };
}

/** What SQS would send for the input: digests computed, system attributes as strings. */
function sqsMessage(input: string | MessageInput): Message {
  const given: MessageInput = typeof input === "string" ? { body: input } : input;
  const now = String(Date.now());
  const messageAttributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(given.messageAttributes ?? {}))
    messageAttributes[name] = attributeValue(name, value);
  const hasAttributes = Object.keys(messageAttributes).length > 0;
  return {
    MessageId: given.messageId ?? randomUUID(),
    ReceiptHandle: `test-receipt-${randomUUID()}`,
    Body: given.body,
    MD5OfBody: md5OfBody(given.body),
    Attributes: {
      ApproximateReceiveCount: String(given.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: "123456789012",
      ApproximateFirstReceiveTimestamp: now,
      ...(given.groupId === undefined ? {} : { MessageGroupId: given.groupId }),
      ...(given.deduplicationId === undefined ? {} : { MessageDeduplicationId: given.deduplicationId }),
      ...(given.sequenceNumber === undefined ? {} : { SequenceNumber: given.sequenceNumber }),
      ...given.attributes,
    },
    ...(hasAttributes
      ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
      : {}),
  };
}
