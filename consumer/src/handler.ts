import type { Logger } from "./logger";
import { truncateCodePoints } from "./text";

/** A received message, as the handler sees it: no receipt handle, which belongs to the consumer. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** How many times SQS has handed out this message, this time included. */
  readonly receiveCount: number;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, { readonly DataType?: string; readonly StringValue?: string }>>;
}

export interface HandlerContext {
  /** Aborted when the handler timeout passes or shutdown runs out of budget: stop work and return. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/**
 * The pluggable part: an async function of one message. Resolving means "done, delete it";
 * throwing (or timing out) means "failed, deliver it again", until the queue's DLQ takes it.
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
      },
      "message received",
    );
    return Promise.resolve();
  };
}
