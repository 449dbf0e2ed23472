import type { Message } from "@aws-sdk/client-sqs";
import type { Context } from "@opentelemetry/api";
import type { Logger } from "./logger";

/** A received message, as the handler sees it: no receipt handle, which belongs to the consumer. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** How many times SQS has handed out this message, this time included. */
  readonly receiveCount: number;
  /** FIFO queues: the message's group; standard queues: its fair-queue group, if the sender set one (never ordered). */
  readonly groupId?: string | undefined;
  /** FIFO queues: the id SQS deduplicated the send with (given, or the body's SHA-256 with content-based deduplication). */
  readonly deduplicationId?: string | undefined;
  /** FIFO queues: SQS's sequence number, increasing within a group (a string of up to 128 digits). */
  readonly sequenceNumber?: string | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, { readonly DataType?: string; readonly StringValue?: string }>>;
}

export interface HandlerContext {
  /** Aborted when the handler timeout passes or shutdown runs out of budget: stop work and return. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
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
 * runs out) its `signal` aborts: return then. A handler that ignores its signal keeps its slot until it
 * settles, and its message is not handled again in this process meanwhile.
 */
export type MessageHandler = (message: ReceivedMessage, context: HandlerContext) => Promise<void>;

/**
 * The default handler, the original demo's behaviour: one info line per message, its body cut after
 * `bodyMaxChars` Unicode code points (`bodyLength`, also in code points, says how long it was).
 */
export function createLogHandler(bodyMaxChars: number): MessageHandler {
  return (message, { logger }) => {
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
    return Promise.resolve();
  };
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
