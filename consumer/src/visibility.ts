import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { classifyAwsError, type HintContext } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { SQS_MAX_VISIBILITY_SECONDS } from "./settings";

/** A message the consumer holds, as far as its visibility is concerned. */
export interface HeldMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** When SQS handed it out (ms since epoch); its total invisibility is capped at 12 h from here. */
  readonly receivedAt: number;
  /** When its handler's hard limit passes (ms since epoch). */
  readonly deadline: number;
  /** When its current visibility timeout ends (ms since epoch); the heartbeat moves it. */
  visibleAt: number;
}

export interface VisibilityOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly visibilityTimeoutSeconds: number;
  readonly hints: HintContext;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Everything that changes a held message's visibility: the heartbeat that keeps long-running
 * messages invisible, and early release (retry delays, unfinished messages at shutdown).
 * All calls go out as ChangeMessageVisibilityBatch, up to 10 entries each.
 */
export class Visibility {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: VisibilityOptions) {}

  /**
   * Every sixth of the visibility timeout, extends messages with less than half of it left, by one
   * visibility timeout, but never past their handler deadline (plus a little) or SQS's 12-hour cap.
   */
  startHeartbeat(held: () => Iterable<HeldMessage>): void {
    const periodMs = (this.options.visibilityTimeoutSeconds * 1000) / 6;
    this.heartbeat = setInterval(() => void this.extend(held()), periodMs);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** Makes each message visible again after the given delay (0 = at once). */
  async release(entries: readonly { message: HeldMessage; delaySeconds: number }[]): Promise<void> {
    await this.change(entries.map(({ message, delaySeconds }) => ({ message, seconds: delaySeconds })), "release");
    this.options.metrics.released.inc(entries.length);
  }

  private async extend(held: Iterable<HeldMessage>): Promise<void> {
    const now = Date.now();
    const timeoutMs = this.options.visibilityTimeoutSeconds * 1000;
    const due: { message: HeldMessage; seconds: number }[] = [];
    for (const message of held) {
      if (message.visibleAt - now > timeoutMs / 2) continue;
      // A little past the deadline, so a handler that gives up right at its limit is released, not redelivered.
      const wanted = Math.min(timeoutMs, message.deadline + 5_000 - now);
      const cap = message.receivedAt + SQS_MAX_VISIBILITY_SECONDS * 1000 - now;
      const seconds = Math.floor(Math.min(wanted, cap) / 1000);
      if (seconds > 0) due.push({ message, seconds });
    }
    const extended = await this.change(due, "heartbeat");
    for (const { message, seconds } of extended) message.visibleAt = now + seconds * 1000;
  }

  /** Sends the changes in batches of 10; returns the ones SQS accepted. */
  private async change(entries: readonly { message: HeldMessage; seconds: number }[], purpose: string) {
    const accepted: { message: HeldMessage; seconds: number }[] = [];
    for (let start = 0; start < entries.length; start += 10) {
      const batch = entries.slice(start, start + 10);
      try {
        const result = await this.options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: batch.map(({ message, seconds }, i) => ({ Id: String(i), ReceiptHandle: message.receiptHandle, VisibilityTimeout: seconds })),
          }),
        );
        const failedIds = new Set((result.Failed ?? []).map((f) => f.Id));
        for (const failure of result.Failed ?? []) {
          const entry = batch[Number(failure.Id)];
          this.options.logger.warn(
            { event: "visibility-failed", purpose, messageId: entry?.message.messageId, code: failure.Code, error: failure.Message },
            `could not change a message's visibility (${purpose})`,
          );
        }
        batch.forEach((entry, i) => failedIds.has(String(i)) || accepted.push(entry));
      } catch (error) {
        const classified = classifyAwsError(error, this.options.hints);
        this.options.metrics.recordError(classified.kind, "ChangeMessageVisibilityBatch");
        this.options.logger.warn(
          { event: "visibility-failed", purpose, messages: batch.map((e) => e.message.messageId), kind: classified.kind, code: classified.code, error: classified.message, hint: classified.hint },
          `could not change visibility of ${batch.length} message(s) (${purpose})`,
        );
      }
    }
    return accepted;
  }
}
