import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SpanContext } from "@opentelemetry/api";
import { Acknowledger } from "./acknowledger";
import { retryDelaySeconds, sleep } from "./backoff";
import type { HintContext } from "./errors";
import { toReceivedMessage, type InFlight } from "./in-flight";
import type { Logger } from "./logger";
import type { FailureReason, Metrics } from "./metrics";
import type { Settings } from "./settings";
import type { ConsumerTracing } from "./tracing";
import type { HeldMessage, Visibility } from "./visibility";

/** Why a handler did not succeed, and what it threw (or the abort reason). */
export interface HandlerFailure {
  readonly reason: FailureReason;
  readonly error: unknown;
}

export interface SettlementOptions {
  readonly settings: Settings;
  readonly sqs: SQSClient;
  readonly hints: HintContext;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: ConsumerTracing;
  readonly visibility: Visibility;
}

/** Time kept at the very end of the shutdown budget for the release call itself. */
const RELEASE_RESERVE_MS = 500;
/** Slack after an abandoned poll's wait time, for SQS's clock and the network. */
const GHOST_POLL_MARGIN_MS = 250;

/**
 * How each in-flight message leaves the consumer: deleted once handled (DeleteMessageBatch through the
 * Acknowledger), or made visible again for redelivery (ChangeMessageVisibilityBatch through Visibility):
 * after the retry delay when it failed or may not be handled here, at once when it was never started
 * (behind a failed FIFO message, or at shutdown). A message that is neither keeps the visibility timeout
 * of its receive, and SQS delivers it again when that ends; each receive counts toward the queue's
 * maxReceiveCount, so redelivery ends in the DLQ (SQS Developer Guide, "Amazon SQS visibility timeout"
 * and "Using dead-letter queues").
 */
export class Settlement {
  private readonly acknowledger: Acknowledger;
  /**
   * Messages set aside at shutdown, never handled: what receives brought after shutdown began, and
   * FIFO messages that waited behind their group's running one.
   */
  private readonly returned: HeldMessage[] = [];
  /** How many of `returned` SQS made visible again. */
  private returnedVisible = 0;
  /** While shutdown gives messages back (`releaseReturned`): sends a release for those set aside since. */
  private releaseLate: (() => void) | undefined;

  constructor(private readonly options: SettlementOptions) {
    const { sqs, settings, hints, logger, metrics, tracing } = options;
    this.acknowledger = new Acknowledger({ sqs, queueUrl: settings.queueUrl, hints, logger, metrics, tracing });
  }

  /** Shutdown's account of the messages set aside: how many, and how many of them SQS made visible again. */
  get returns(): { readonly setAside: number; readonly madeVisible: number } {
    return { setAside: this.returned.length, madeVisible: this.returnedVisible };
  }

  /**
   * Deletes a handled message (batched with others, see Acknowledger), linking the settle span to its
   * process span. An extension on its way would fail on a deleted message: the delete waits for it.
   */
  async delete(entry: HeldMessage, processSpan: SpanContext | undefined): Promise<void> {
    const extending = this.options.visibility.settle(entry);
    if (extending !== undefined) await extending;
    this.acknowledger.ack(entry.messageId, entry.receiptHandle, entry.visibleAt, processSpan);
  }

  /**
   * A failed handler: counts and logs the failure, makes the message visible again after its retry
   * delay (RETRY_BASE_SECONDS doubling per receive, up to RETRY_MAX_SECONDS; 0 leaves it to the
   * visibility timeout), and the messages of its FIFO group that waited behind it at once, so SQS
   * redelivers the group from the failed message on.
   */
  async failed(entry: InFlight, failure: HandlerFailure, behind: readonly InFlight[]): Promise<void> {
    const { settings, logger, metrics, visibility } = this.options;
    metrics.failed.inc({ reason: failure.reason });
    const delaySeconds = retryDelaySeconds(
      entry.message.receiveCount,
      settings.retryBaseSeconds,
      settings.retryMaxSeconds,
    );
    logger.warn(
      {
        event: "handler-failed",
        messageId: entry.messageId,
        receiveCount: entry.message.receiveCount,
        reason: failure.reason,
        err: failure.error,
        retryInSeconds: delaySeconds > 0 ? delaySeconds : undefined,
      },
      failure.reason === "timeout"
        ? "handler timed out; the message will be delivered again"
        : "handler failed; the message will be delivered again",
    );
    const releases = [
      ...(delaySeconds > 0 ? [{ message: entry, delaySeconds }] : []),
      ...behind.map((message) => ({ message, delaySeconds: 0 })),
    ];
    if (releases.length > 0) await visibility.release(releases);
  }

  /**
   * Leaves a message the consumer will not handle for redelivery, like a failure: visible again after
   * the retry delay (or the visibility timeout), so its receives count toward the DLQ. `fields` and
   * `why` make its log line.
   */
  giveBack(raw: Message, receivedAt: number, fields: Record<string, unknown>, why: string): void {
    const { settings, logger, visibility } = this.options;
    const messageId = raw.MessageId ?? "";
    const receiveCount = toReceivedMessage(raw).receiveCount;
    const delaySeconds = retryDelaySeconds(receiveCount, settings.retryBaseSeconds, settings.retryMaxSeconds);
    logger.warn(
      { ...fields, messageId, receiveCount, retryInSeconds: delaySeconds > 0 ? delaySeconds : undefined },
      why,
    );
    if (delaySeconds === 0) return;
    const message = {
      messageId,
      receiptHandle: raw.ReceiptHandle ?? "",
      receivedAt,
      deadline: receivedAt,
      visibleAt: receivedAt + settings.visibilityTimeoutSeconds * 1000,
    };
    void visibility.release([{ message, delaySeconds }]);
  }

  /** Makes messages that were never started visible again at once (VisibilityTimeout 0). */
  releaseNow(messages: readonly HeldMessage[]): Promise<number> {
    return this.options.visibility.release(messages.map((message) => ({ message, delaySeconds: 0 })));
  }

  /**
   * Sets messages aside that shutdown gives back instead of handling them. Once `releaseReturned` has
   * begun, they are released right away (when safe, see releaseWhenSafe).
   */
  returnAtShutdown(messages: readonly HeldMessage[]): void {
    this.returned.push(...messages);
    this.releaseLate?.();
  }

  /**
   * Shutdown: makes visible again what was set aside (`returnAtShutdown`), and what is set aside later
   * until `receivesEnded` settles (no receive can bring anything more) or the budget's last
   * RELEASE_RESERVE_MS begins, whichever comes first; then waits for those releases (see
   * releaseWhenSafe). `abandonedPollsEndAt()` is asked at each release and `end` is the end of the
   * shutdown budget, both in ms since epoch. What a receive brings after that is not released: its
   * messages stay hidden for their visibility timeout (`returns` does not count them as made visible).
   */
  async releaseReturned(
    receivesEnded: Promise<unknown>,
    abandonedPollsEndAt: () => number,
    end: number,
  ): Promise<void> {
    const releases: Promise<void>[] = [];
    let taken = 0;
    const releaseNew = (): void => {
      const batch = this.returned.slice(taken);
      taken = this.returned.length;
      if (batch.length === 0) return;
      releases.push(
        this.releaseWhenSafe(batch, abandonedPollsEndAt(), end).then(
          (visible) => void (this.returnedVisible += visible),
        ),
      );
    };
    this.releaseLate = releaseNew;
    releaseNew();
    const lastCall = new AbortController();
    await Promise.race([receivesEnded, sleep(end - RELEASE_RESERVE_MS - Date.now(), lastCall.signal)]);
    lastCall.abort();
    this.releaseLate = undefined;
    await Promise.all(releases);
  }

  /**
   * Makes messages visible again at once, but not before the receives hung up on at shutdown have run
   * out (`abandonedPollsEndAt`, ms since epoch): SQS keeps serving a long poll after its client hangs
   * up, and a message that turns visible before the poll's wait time ends is handed to the dead
   * connection and hidden for a visibility timeout. Waits no later than just before `end` (ms since
   * epoch, the end of the shutdown budget), which also ends the calls still open. Returns how many
   * SQS made visible.
   */
  async releaseWhenSafe(messages: readonly HeldMessage[], abandonedPollsEndAt: number, end: number): Promise<number> {
    if (messages.length === 0) return 0;
    await sleep(Math.min(abandonedPollsEndAt + GHOST_POLL_MARGIN_MS, end - RELEASE_RESERVE_MS) - Date.now());
    return this.options.visibility.release(
      messages.map((message) => ({ message, delaySeconds: 0 })),
      AbortSignal.timeout(Math.max(end - Date.now(), 0)),
    );
  }

  /** Shutdown: sends the deletes still pending and waits for them, retries included, until `end` (ms since epoch). */
  drainDeletes(end: number): Promise<void> {
    return this.acknowledger.drain(end);
  }
}
