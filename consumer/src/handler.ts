import type { Message } from "@aws-sdk/client-sqs";
import type { Context } from "@opentelemetry/api";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { checkHandlerExports } from "./handler-exports.mjs";
import type { Logger } from "./logger";
import type { ParseResult, Settings } from "./settings";

/**
 * The handler contract: what the user's code is given and what it answers, in either of two forms.
 * - `handleMessage(message, context)` (MessageHandler): one message; resolve to delete it, throw to have
 *   it delivered again.
 * - `handleBatch(event, context)` (BatchHandler): an AWS Lambda SQS handler, unchanged: `event.Records`
 *   in Lambda's shape, a partial batch response back (batch.ts reads it as Lambda does).
 * consumer/handler.ts exports one of the two; handler-exports.mts checks which.
 */

export type {
  SQSBatchItemFailure,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttribute,
  SQSRecord,
  SQSRecordAttributes,
} from "aws-lambda";

/** A received message, as the handler sees it: no receipt handle, which belongs to the consumer. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** The MD5 digest SQS sent of the message attributes: only when the message has any (ReceiveMessage's MD5OfMessageAttributes). */
  readonly md5OfMessageAttributes?: string | undefined;
  /** How many times SQS has handed out this message, this time included. */
  readonly receiveCount: number;
  /** FIFO queues: the message's group; standard queues: its fair-queue group, if the sender set one (never ordered). */
  readonly groupId?: string | undefined;
  /** FIFO queues: the id SQS deduplicated the send with (given, or the body's SHA-256 with content-based deduplication). */
  readonly deduplicationId?: string | undefined;
  /** FIFO queues: SQS's sequence number, increasing within a group (a string of up to 128 digits). */
  readonly sequenceNumber?: string | undefined;
  /** SQS's system attributes as SQS sends them (ApproximateReceiveCount, SentTimestamp, SenderId, ...), strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The sender's message attributes; `BinaryValue` holds the bytes of Binary types. */
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
}

/** One message attribute as SQS sends it (API reference, MessageAttributeValue). */
export interface MessageAttribute {
  /** String, Number or Binary, optionally with a custom suffix (`Number.float`, `Binary.gif`). */
  readonly DataType?: string | undefined;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

export interface HandlerContext {
  /** Aborted when the handler timeout passes or shutdown runs out of budget: stop work and return. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The consumer's settings (read-only): the queue, its region, HANDLER_TIMEOUT_SECONDS and the rest. */
  readonly settings: Settings;
  /**
   * The OpenTelemetry context of this message's `process` span: start child spans under it with
   * `tracer.startSpan(name, options, traceContext)`. It is also the active context while the handler
   * runs when a context manager is registered (tracing on through `OTEL_*` registers one). Without an
   * SDK its spans are no-ops.
   */
  readonly traceContext: Context;
}

/**
 * The pluggable part: an async function of one message. Resolving means "done, delete it";
 * throwing (or timing out) means "failed, deliver it again", until the queue's DLQ takes it.
 *
 * The handler runs at most HANDLER_CONCURRENCY at a time, one message once at a time, on a FIFO queue
 * one message of a group at a time in order. At HANDLER_TIMEOUT_SECONDS (or when the shutdown budget
 * runs out) its `signal` aborts: return then. A handler that ignores its signal keeps its slot, and its
 * message stays invisible, until it settles; then the message is deleted or delivered again by its outcome.
 */
export type MessageHandler = (message: ReceivedMessage, context: HandlerContext) => Promise<void>;

/**
 * What a batch handler is given besides the event: the message handler's context, and the two parts of
 * Lambda's context object that SQS handlers use.
 */
export interface BatchHandlerContext extends HandlerContext {
  /** A new UUID per invocation, like Lambda's `context.awsRequestId`: correlate a batch's log lines with it. */
  readonly awsRequestId: string;
  /** Milliseconds left before the hard limit (HANDLER_TIMEOUT_SECONDS) aborts this batch, like Lambda's. */
  getRemainingTimeInMillis(): number;
}

/**
 * The Lambda form: an async function of a batch of messages in the shape of Lambda's SQS event
 * (`@types/aws-lambda`, trigger/sqs.d.ts), so that an existing Lambda SQS handler runs unchanged.
 * It answers as Lambda reads a partial batch response ("Handling errors for an SQS event source in
 * Lambda", Lambda developer guide): nothing, or an empty `batchItemFailures`, deletes every message;
 * `{ batchItemFailures: [{ itemIdentifier: messageId }] }` has the listed messages delivered again and
 * deletes the rest; a throw, the hard limit, or an `itemIdentifier` that is empty or not a message of
 * the batch delivers the whole batch again. On a FIFO queue the messages of a group behind its first
 * failure become visible again too, as Lambda requires (batch.ts).
 *
 * A batch is BATCH_SIZE messages at most, gathered for up to BATCH_WINDOW_SECONDS; each of its messages
 * takes a handler slot (HANDLER_CONCURRENCY counts messages), and the batch runs under one hard limit
 * (HANDLER_TIMEOUT_SECONDS), aborting `context.signal` as for a message.
 */
export type BatchHandler = (event: SQSEvent, context: BatchHandlerContext) => Promise<SQSBatchResponse | void>;

/**
 * The user's code in one of its two forms: what consumer/handler.ts exports (`import * as handler from
 * "./handler"` is one), and what the consumer runs.
 */
export type Handler =
  | { readonly handleMessage: MessageHandler; readonly handleBatch?: undefined }
  | { readonly handleBatch: BatchHandler; readonly handleMessage?: undefined };

/**
 * The handler a handler file exports (`path` names it in the problem), checked: exactly one of
 * handleMessage and handleBatch, a function (handler-exports.mts). `exports` is the file's module
 * namespace (`import * as handler from "./handler"`).
 */
export function handlerFromFile(path: string, exports: Readonly<Record<string, unknown>>): ParseResult<Handler> {
  const check = checkHandlerExports(Object.keys(exports), (name) => {
    const value = exports[name];
    return { type: typeof value, length: typeof value === "function" ? value.length : undefined };
  });
  if (!check.ok) return { ok: false, problems: [{ key: path, reason: check.reason }] };
  const value = exports[check.form];
  return {
    ok: true,
    value:
      check.form === "handleBatch"
        ? { handleBatch: value as BatchHandler }
        : { handleMessage: value as MessageHandler },
  };
}

/**
 * The default handler, the original demo's behaviour: one info line per message, with `messageId`, its
 * body cut after LOG_BODY_MAX_CHARS Unicode code points (`bodyTruncated` and `bodyLength`, in code
 * points, say when it was), `md5OfBody`, `receiveCount`, and on FIFO queues `groupId` and `sequenceNumber`.
 */
export const logMessage: MessageHandler = (message, { logger, settings }) => {
  logMessageLine(message, logger, settings.logBodyMaxChars);
  return Promise.resolve();
};

/**
 * The default handler with a fixed body limit: one info line per message, its body cut after
 * `bodyMaxChars` Unicode code points (`bodyLength`, also in code points, says how long it was).
 */
export function createLogHandler(bodyMaxChars: number): MessageHandler {
  return (message, { logger }) => {
    logMessageLine(message, logger, bodyMaxChars);
    return Promise.resolve();
  };
}

function logMessageLine(message: ReceivedMessage, logger: Logger, bodyMaxChars: number): void {
  const body = truncateCodePoints(message.body, bodyMaxChars);
  logger.info(
    {
      event: "message",
      messageId: message.messageId,
      body: body.text,
      ...(body.truncated ? { bodyTruncated: true, bodyLength: body.codePoints } : {}),
      md5OfBody: message.md5OfBody,
      receiveCount: message.receiveCount,
      ...(message.groupId === undefined ? {} : { groupId: message.groupId }),
      ...(message.sequenceNumber === undefined ? {} : { sequenceNumber: message.sequenceNumber }),
    },
    "message received",
  );
}

/**
 * The handler's view of a received message: the SDK's `Message` with its system attributes read
 * (ApproximateReceiveCount, 1 when absent; MessageGroupId, also a fair-queue group on standard queues;
 * MessageDeduplicationId and SequenceNumber, FIFO queues only), without its receipt handle.
 */
export function toReceivedMessage(raw: Message): ReceivedMessage {
  const attributes = (raw.Attributes ?? {}) as Record<string, string>;
  return {
    messageId: raw.MessageId ?? "",
    body: raw.Body ?? "",
    md5OfBody: raw.MD5OfBody ?? "",
    md5OfMessageAttributes: raw.MD5OfMessageAttributes,
    receiveCount: Number(attributes.ApproximateReceiveCount ?? "1"),
    groupId: attributes.MessageGroupId,
    deduplicationId: attributes.MessageDeduplicationId,
    sequenceNumber: attributes.SequenceNumber,
    attributes,
    messageAttributes: raw.MessageAttributes ?? {},
  };
}

/** The first `max` code points of `text` and how many code points `text` has in all. */
export interface Truncated {
  readonly text: string;
  readonly truncated: boolean;
  /** Length of the whole input, in code points. */
  readonly codePoints: number;
}

/**
 * Cuts `text` after `max` code points (a character outside the Basic Multilingual Plane, such as 😀,
 * counts as one), as people and log pipelines count: a cut never splits a surrogate pair into a lone
 * surrogate, invalid Unicode that breaks JSON-to-UTF-8 pipelines. Runs in time proportional to the
 * input's length, without copying it into an array.
 */
export function truncateCodePoints(text: string, max: number): Truncated {
  let codePoints = 0;
  let cutAt = text.length;
  for (let i = 0; i < text.length; i++) {
    if (codePoints === max) cutAt = Math.min(cutAt, i);
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; a lone surrogate counts as one too.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    codePoints++;
  }
  const truncated = codePoints > max;
  return { text: truncated ? text.slice(0, cutAt) : text, truncated, codePoints };
}
