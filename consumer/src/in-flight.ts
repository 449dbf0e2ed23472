import type { Message } from "@aws-sdk/client-sqs";
import type { Context } from "@opentelemetry/api";
import type { ReceivedMessage } from "./handler";
import type { Metrics } from "./metrics";
import type { HeldMessage } from "./visibility";

/**
 * What the consumer holds for one in-flight message (received, not yet deleted or made visible again:
 * SQS API reference, ChangeMessageVisibility), from its receive until its handler settles.
 */
export interface InFlight extends HeldMessage {
  readonly message: ReceivedMessage;
  readonly groupId: string | undefined;
  /** Set when its handler starts; until then (waiting behind its FIFO group) the heartbeat keeps it invisible. */
  deadline: number;
  readonly controller: AbortController;
  /** The receive span's context: the process span is its child. */
  readonly receiveContext: Context;
  /** Set when shutdown gave the message back to SQS: its outcome no longer matters. */
  released: boolean;
}

/**
 * The in-flight messages the consumer holds: running, or waiting behind their FIFO group's running
 * message. The visibility heartbeat iterates them; the `inFlight` gauge follows their count.
 */
export class InFlightMessages implements Iterable<InFlight> {
  private readonly held = new Set<InFlight>();
  /** The same entries by message id: dispatch holds at most one entry per message. */
  private readonly byId = new Map<string, InFlight>();

  constructor(private readonly metrics: Metrics) {}

  get size(): number {
    return this.held.size;
  }

  [Symbol.iterator](): Iterator<InFlight> {
    return this.held[Symbol.iterator]();
  }

  hold(entry: InFlight): void {
    this.held.add(entry);
    this.byId.set(entry.messageId, entry);
    this.metrics.inFlight.inc();
  }

  /** The consumer no longer holds the message (handled, or about to be given back). */
  unhold(entry: InFlight): void {
    if (!this.held.delete(entry)) return;
    if (this.byId.get(entry.messageId) === entry) this.byId.delete(entry.messageId);
    this.metrics.inFlight.dec();
  }

  /** The held entry of a message, by its id (a second delivery has the same id, another receipt handle). */
  find(messageId: string): InFlight | undefined {
    return this.byId.get(messageId);
  }
}

/**
 * The entry for one message of a receive, not yet held. `receivedAt` is in ms since epoch; the message
 * turns visible again `visibilityTimeoutSeconds` after it unless the heartbeat extends it. Its handler
 * deadline is open (infinite) until the handler starts.
 */
export function inFlightEntry(
  raw: Message,
  receivedAt: number,
  receiveContext: Context,
  visibilityTimeoutSeconds: number,
): InFlight {
  const message = toReceivedMessage(raw);
  return {
    messageId: raw.MessageId ?? "",
    receiptHandle: raw.ReceiptHandle ?? "",
    receivedAt,
    deadline: Number.POSITIVE_INFINITY,
    visibleAt: receivedAt + visibilityTimeoutSeconds * 1000,
    message,
    groupId: message.groupId,
    controller: new AbortController(),
    receiveContext,
    released: false,
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
