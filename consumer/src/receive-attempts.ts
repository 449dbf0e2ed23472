import { randomUUID } from "node:crypto";
import type { AwsErrorKind } from "./errors";

/**
 * ReceiveRequestAttemptId for FIFO queues, one instance per receive loop. SQS hides what it hands to a receive and locks the
 * messages' groups; when the answer is lost on the way, a retry with the same attempt id within
 * 5 minutes gets the same messages and receipt handles back, while a retry without one finds those
 * groups locked until the visibility timeout ends (API reference of ReceiveMessage; SQS Developer
 * Guide, "Using the receive request attempt ID").
 *
 * One id per logical receive, set on the command, so the SDK's own retries of that command reuse it.
 * When the SDK gives up too, the consumer's next receive reuses the id if no answer came back
 * (network errors, SQS-side faults) and asks for the same number of messages; after throttling SQS
 * rejects a reused id, so a new one is drawn (awslabs/amazon-sqs-java-messaging-lib#213).
 */
export class ReceiveAttempts {
  private pending: { readonly id: string; readonly maxMessages: number; readonly startedAt: number } | undefined;

  /** @param fifo attempt ids only apply to FIFO queues; on standard queues `begin` returns none. */
  constructor(private readonly fifo: boolean) {}

  /** The attempt id and message count for a receive that may ask for up to `slots` messages. */
  begin(slots: number, now = Date.now()): { readonly id: string | undefined; readonly maxMessages: number } {
    if (!this.fifo) return { id: undefined, maxMessages: slots };
    const retry = this.pending;
    if (retry !== undefined && now - retry.startedAt < ATTEMPT_ID_REUSE_MS && slots >= retry.maxMessages) {
      return { id: retry.id, maxMessages: retry.maxMessages };
    }
    this.pending = { id: randomUUID(), maxMessages: slots, startedAt: now };
    return { id: this.pending.id, maxMessages: slots };
  }

  /** The receive answered: its id is spent. */
  answered(): void {
    this.pending = undefined;
  }

  /** The receive failed with an error of `kind`: keep the id for the next receive only if SQS may have served it unseen. */
  failed(kind: AwsErrorKind): void {
    if (kind !== "network" && kind !== "server") this.pending = undefined;
  }
}

/** SQS honours an attempt id for 5 minutes; a margin keeps a slow retry from reaching SQS after that. */
export const ATTEMPT_ID_REUSE_MS = 4 * 60_000;
