import { DeleteMessageBatchCommand, type BatchResultErrorEntry, type SQSClient } from "@aws-sdk/client-sqs";
import type { SpanContext } from "@opentelemetry/api";
import { backoffDelayMs, sleep } from "./backoff";
import { classifyAwsError, type HintContext } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import type { ConsumerTracing } from "./tracing";

/** SQS takes at most 10 entries per batch call. */
const BATCH_SIZE = 10;
/** How long a lone acknowledgement waits for company before it is sent. */
const FLUSH_DELAY_MS = 5;

interface PendingDelete {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** When the message turns visible again (ms since epoch): retrying past that is pointless. */
  readonly visibleAt: number;
  /** The message's process span, for the settle span's link. */
  readonly processSpan: SpanContext | undefined;
  attempts: number;
}

export interface AcknowledgerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly hints: HintContext;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: ConsumerTracing;
}

/**
 * Deletes successfully handled messages, coalesced into DeleteMessageBatch calls of up to 10.
 * Entries that fail for a transient reason (network, throttling, an SQS-side fault) are retried with
 * backoff for as long as the message stays invisible; entries that cannot be deleted are logged and
 * counted, never dropped silently (SQS will deliver those messages again).
 */
export class Acknowledger {
  private pending: PendingDelete[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborts backoff sleeps when shutdown runs out of time. */
  private readonly abort = new AbortController();

  constructor(private readonly options: AcknowledgerOptions) {}

  ack(messageId: string, receiptHandle: string, visibleAt: number, processSpan?: SpanContext): void {
    this.pending.push({ messageId, receiptHandle, visibleAt, processSpan, attempts: 0 });
    if (this.pending.length >= BATCH_SIZE) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  /** Sends everything pending and waits for all deletes, retries included, or until `deadline`. */
  async drain(deadline: number): Promise<void> {
    this.flush();
    const remaining = deadline - Date.now();
    const timeout = sleep(Math.max(remaining, 0), this.abort.signal);
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all(this.inFlight), timeout]);
    }
    this.abort.abort();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) this.track(this.send(this.pending.splice(0, BATCH_SIZE)));
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async send(batch: PendingDelete[]): Promise<void> {
    const { sqs, queueUrl, metrics, tracing } = this.options;
    for (const entry of batch) entry.attempts++;
    let failed: BatchResultErrorEntry[];
    const span = tracing.startSettle(
      batch.length,
      batch.map((e) => e.processSpan),
    );
    try {
      const result = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle })),
        }),
      );
      failed = result.Failed ?? [];
      tracing.settleDone(span, failed.length);
      metrics.deleted.inc(batch.length - failed.length);
    } catch (error) {
      const classified = classifyAwsError(error, this.options.hints);
      tracing.settleFailed(span, { kind: classified.kind, error });
      metrics.recordError(classified.kind, "DeleteMessageBatch");
      await this.retryOrReport(batch, classified.code, classified.message);
      return;
    }
    const byId = new Map(failed.map((f) => [f.Id, f]));
    const retryable: PendingDelete[] = [];
    batch.forEach((entry, i) => {
      const failure = byId.get(String(i));
      if (!failure) return;
      // SenderFault means the entry itself is wrong (e.g. an expired receipt handle): retrying cannot help.
      if (failure.SenderFault) this.report(entry, failure.Code ?? "SenderFault", failure.Message ?? "");
      else retryable.push(entry);
    });
    if (retryable.length > 0)
      await this.retryOrReport(retryable, "BatchEntryFailed", "SQS failed some entries of a DeleteMessageBatch");
  }

  private async retryOrReport(entries: PendingDelete[], code: string, message: string): Promise<void> {
    const delay = backoffDelayMs(Math.max(...entries.map((e) => e.attempts)), 100, 5_000);
    const retryAt = Date.now() + delay;
    const retry = entries.filter((e) => retryAt < e.visibleAt);
    for (const entry of entries)
      if (retryAt >= entry.visibleAt) this.report(entry, code, `${message} (visibility timeout reached)`);
    if (retry.length === 0) return;
    await sleep(delay, this.abort.signal);
    if (this.abort.signal.aborted) {
      for (const entry of retry) this.report(entry, code, `${message} (gave up at shutdown)`);
      return;
    }
    for (const entry of retry) this.pending.push(entry);
    this.flush();
  }

  private report(entry: PendingDelete, code: string, message: string): void {
    this.options.metrics.deleteFailures.inc();
    this.options.logger.warn(
      { event: "delete-failed", messageId: entry.messageId, code, error: message, attempts: entry.attempts },
      "could not delete a handled message; SQS will deliver it again",
    );
  }
}
