import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { Acknowledger } from "./acknowledger";
import { backoffDelayMs, retryDelaySeconds, sleep } from "./backoff";
import { Capacity } from "./capacity";
import { checkMessage } from "./checksums";
import { classifyAwsError, type HintContext } from "./errors";
import type { MessageHandler, ReceivedMessage } from "./handler";
import { Invocations } from "./invocations";
import type { Logger } from "./logger";
import type { FailureReason, Metrics } from "./metrics";
import { Readiness } from "./readiness";
import type { Settings } from "./settings";
import { Visibility, type HeldMessage } from "./visibility";

/** Backoff after a failed receive: from 200 ms, doubling, up to 20 s, with full jitter. */
const RECEIVE_BACKOFF_BASE_MS = 200;
const RECEIVE_BACKOFF_CAP_MS = 20_000;
/** Part of the shutdown budget kept for deleting what succeeded and releasing what did not. */
const SHUTDOWN_RESERVE_MAX_MS = 2_000;
/** Time kept at the very end of the budget for the release call itself. */
const RELEASE_RESERVE_MS = 500;
/** Slack after an abandoned poll's wait time, for SQS's clock and the network. */
const GHOST_POLL_MARGIN_MS = 250;
/**
 * How long receives open at shutdown may still answer before the consumer hangs up on them. SQS
 * hides what it hands to a receive, so hanging up on one whose answer is on its way would hide its
 * messages for a visibility timeout; a receive still open after this is waiting on an empty queue.
 */
const RECEIVE_SETTLE_MS = 1_000;

export interface ConsumerOptions {
  readonly settings: Settings;
  readonly sqs: SQSClient;
  readonly handler: MessageHandler;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Role and token file, to make error hints specific. */
  readonly hints: HintContext;
}

/** A receive request in progress. */
interface OpenPoll {
  /** When it would end on its own (ms since epoch). */
  readonly endsAt: number;
  readonly controller: AbortController;
}

/** What the consumer holds for one message while its handler runs. */
interface InFlight extends HeldMessage {
  readonly message: ReceivedMessage;
  readonly controller: AbortController;
  /** Set when shutdown gave the message back to SQS: its outcome no longer matters. */
  released: boolean;
}

/**
 * The consumer: receive loops that long-poll SQS for as many messages as there are free handler
 * slots, a handler run per message with a hard timeout, batched deletes of successes, delayed
 * redelivery of failures, a visibility heartbeat for long handlers, and a graceful stop.
 */
export class Consumer {
  readonly readiness: Readiness;
  /** Handler invocations that have not settled; also the liveness verdict (see Invocations). */
  readonly invocations: Invocations;
  private readonly capacity: Capacity;
  private readonly acknowledger: Acknowledger;
  private readonly visibility: Visibility;
  private readonly inFlight = new Set<InFlight>();
  /** Aborted when shutdown begins: no receive starts after that. */
  private readonly receiving = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly openPolls = new Set<OpenPoll>();
  /** When the last receive hung up on at shutdown would have ended on its own (ms since epoch). */
  private abandonedPollsEndAt = 0;
  /** Messages receives brought back after shutdown began: never handled, given back to SQS. */
  private readonly returned: HeldMessage[] = [];
  /** Handlers running or finishing up (a failure's retry delay is set after the handler returns). */
  private readonly handling = new Set<Promise<void>>();
  private idle: (() => void) | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: ConsumerOptions) {
    const { settings, sqs, logger, metrics, hints } = options;
    this.readiness = new Readiness(logger, metrics);
    this.capacity = new Capacity(settings.handlerConcurrency);
    this.invocations = new Invocations(settings.handlerConcurrency, this.capacity, metrics, logger);
    this.acknowledger = new Acknowledger({ sqs, queueUrl: settings.queueUrl, hints, logger, metrics });
    this.visibility = new Visibility({ sqs, queueUrl: settings.queueUrl, visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds, hints, logger, metrics });
  }

  start(): void {
    this.visibility.startHeartbeat(() => this.inFlight);
    for (let i = 0; i < this.options.settings.receiveLoops; i++) this.loops.push(this.receiveLoop());
  }

  /**
   * Graceful stop, idempotent: start no more receives and abort the long polls, let handlers finish
   * within the shutdown budget, then delete what succeeded and make the rest visible again.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    const { settings, logger } = this.options;
    const startedAt = Date.now();
    const budgetMs = settings.shutdownBudgetSeconds * 1000;
    const end = startedAt + budgetMs;
    const handlersDeadline = end - Math.min(SHUTDOWN_RESERVE_MAX_MS, budgetMs / 4);
    this.readiness.stopping();
    this.capacity.close();
    this.receiving.abort();
    logger.info({ event: "stopping", inFlight: this.inFlight.size, budgetSeconds: settings.shutdownBudgetSeconds }, "stopping: no more receives");
    const settled = setTimeout(() => this.abortPolls(), Math.min(RECEIVE_SETTLE_MS, budgetMs / 4));
    await Promise.all(this.loops);
    clearTimeout(settled);
    const returning = this.releaseWhenSafe(this.returned, end);
    if (this.inFlight.size > 0) {
      const allDone = new AbortController();
      this.idle = () => allDone.abort();
      await sleep(handlersDeadline - Date.now(), allDone.signal);
    }
    this.visibility.stopHeartbeat();

    const unfinished = [...this.inFlight];
    for (const entry of unfinished) {
      entry.released = true;
      entry.controller.abort(new Error("shutdown budget exhausted"));
    }
    // Failed handlers set their retry delay after they return; wait for that too, within the budget.
    const outOfTime = new AbortController();
    const handlersSettled = Promise.race([Promise.allSettled(this.handling), sleep(end - Date.now(), outOfTime.signal)]);
    await Promise.all([this.acknowledger.drain(end), returning, this.releaseWhenSafe(unfinished, end), handlersSettled]);
    outOfTime.abort();
    logger.info({ event: "stopped", released: unfinished.length, returned: this.returned.length, tookMs: Date.now() - startedAt }, "stopped");
  }

  /**
   * Makes messages visible again at once, but not before the receives hung up on at shutdown have run
   * out: SQS keeps serving a long poll after its client hangs up, and a message that turns visible
   * before the poll's wait time ends is handed to the dead connection and hidden for a visibility
   * timeout. Waits no later than just before the end of the budget.
   */
  private async releaseWhenSafe(messages: readonly HeldMessage[], end: number): Promise<void> {
    if (messages.length === 0) return;
    await sleep(Math.min(this.abandonedPollsEndAt + GHOST_POLL_MARGIN_MS, end - RELEASE_RESERVE_MS) - Date.now());
    await this.visibility.release(messages.map((message) => ({ message, delaySeconds: 0 })), AbortSignal.timeout(Math.max(end - Date.now(), 0)));
  }

  /** Hangs up on the receives still open, noting when SQS would have ended them (see releaseWhenSafe). */
  private abortPolls(): void {
    for (const poll of this.openPolls) {
      this.abandonedPollsEndAt = Math.max(this.abandonedPollsEndAt, poll.endsAt);
      poll.controller.abort();
    }
  }

  private async receiveLoop(): Promise<void> {
    const { settings, sqs, metrics, hints } = this.options;
    const signal = this.receiving.signal;
    let failures = 0;
    while (!signal.aborted) {
      const slots = await this.capacity.reserve(settings.maxMessages);
      if (slots === 0) break;
      if (signal.aborted) {
        this.capacity.release(slots);
        break;
      }
      let messages: Message[];
      const started = performance.now();
      const wait = this.readiness.ready ? settings.waitTimeSeconds : 0;
      const poll: OpenPoll = { endsAt: Date.now() + wait * 1000, controller: new AbortController() };
      this.openPolls.add(poll);
      try {
        const result = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: settings.queueUrl,
            MaxNumberOfMessages: slots,
            // Until a receive has succeeded (start-up, or after failures) poll without waiting, so
            // readiness reflects a recovery at once instead of after a long poll of up to 20 s.
            WaitTimeSeconds: wait,
            VisibilityTimeout: settings.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: poll.controller.signal },
        );
        messages = result.Messages ?? [];
      } catch (error) {
        this.openPolls.delete(poll);
        this.capacity.release(slots);
        if (signal.aborted) break;
        this.readiness.failed(classifyAwsError(error, hints), "ReceiveMessage");
        await sleep(backoffDelayMs(failures++, RECEIVE_BACKOFF_BASE_MS, RECEIVE_BACKOFF_CAP_MS), signal);
        continue;
      }
      this.openPolls.delete(poll);
      failures = 0;
      metrics.receiveDuration.observe((performance.now() - started) / 1000);
      this.readiness.succeeded();
      this.capacity.release(slots - messages.length);
      if (messages.length === 0) {
        metrics.emptyReceives.inc();
        continue;
      }
      metrics.received.inc(messages.length);
      const receivedAt = Date.now();
      for (const message of messages) this.dispatch(message, receivedAt);
    }
  }

  private dispatch(raw: Message, receivedAt: number): void {
    const { settings } = this.options;
    const corrupt = checkMessage(raw);
    if (corrupt !== undefined) {
      this.capacity.release(1);
      this.options.metrics.checksumMismatches.inc({ part: corrupt });
      this.giveBack(raw, receivedAt, { event: "checksum-mismatch", part: corrupt }, `the message's ${corrupt} does not match its MD5: not handled; it will be delivered again (then moved to the DLQ)`);
      return;
    }
    const running = this.invocations.get(raw.MessageId ?? "");
    if (running !== undefined) {
      this.capacity.release(1);
      this.redelivered(running.abandoned, raw, receivedAt);
      return;
    }
    const entry: InFlight = {
      messageId: raw.MessageId ?? "",
      receiptHandle: raw.ReceiptHandle ?? "",
      receivedAt,
      deadline: receivedAt + settings.handlerTimeoutSeconds * 1000,
      visibleAt: receivedAt + settings.visibilityTimeoutSeconds * 1000,
      message: toReceivedMessage(raw),
      controller: new AbortController(),
      released: false,
    };
    if (this.receiving.signal.aborted) {
      // Received as shutdown began: shutdown gives it back rather than start work there is no time for.
      this.returned.push(entry);
      this.capacity.release(1);
      return;
    }
    this.inFlight.add(entry);
    this.options.metrics.inFlight.inc();
    const handling = this.handle(entry).finally(() => this.handling.delete(handling));
    this.handling.add(handling);
  }

  /**
   * A message received again while an invocation for it has not settled (SQS delivers at least once,
   * and a timed-out message comes back after its retry delay) is never handled twice at once. If its
   * handler is still within its limit, the new receipt handle replaces the old one, so the heartbeat
   * and the delete act on the latest delivery. If its handler was abandoned, the message goes back
   * after the retry delay, counting toward the DLQ like any failure.
   */
  private redelivered(abandoned: boolean, raw: Message, receivedAt: number): void {
    const { settings, logger, metrics } = this.options;
    const messageId = raw.MessageId ?? "";
    metrics.duplicateDeliveries.inc({ state: abandoned ? "abandoned" : "running" });
    const held = [...this.inFlight].find((entry) => entry.messageId === messageId);
    if (!abandoned && held !== undefined) {
      held.receiptHandle = raw.ReceiptHandle ?? held.receiptHandle;
      held.receivedAt = receivedAt;
      held.visibleAt = receivedAt + settings.visibilityTimeoutSeconds * 1000;
      logger.info({ event: "duplicate-delivery", messageId }, "received again while being handled: the new receipt handle replaces the old one");
      return;
    }
    this.giveBack(raw, receivedAt, { event: "duplicate-delivery" }, "received again while its abandoned handler still runs: not handled a second time here; it will be delivered again");
  }

  /**
   * Leaves a message the consumer will not handle for redelivery, like a failure: visible again after
   * the retry delay (or the visibility timeout), so its receives count toward the DLQ.
   */
  private giveBack(raw: Message, receivedAt: number, fields: Record<string, unknown>, why: string): void {
    const { settings, logger } = this.options;
    const messageId = raw.MessageId ?? "";
    const receiveCount = toReceivedMessage(raw).receiveCount;
    const delaySeconds = retryDelaySeconds(receiveCount, settings.retryBaseSeconds, settings.retryMaxSeconds);
    logger.warn({ ...fields, messageId, receiveCount, retryInSeconds: delaySeconds > 0 ? delaySeconds : undefined }, why);
    if (delaySeconds === 0) return;
    const message = { messageId, receiptHandle: raw.ReceiptHandle ?? "", receivedAt, deadline: receivedAt, visibleAt: receivedAt + settings.visibilityTimeoutSeconds * 1000 };
    void this.visibility.release([{ message, delaySeconds }]);
  }

  private async handle(entry: InFlight): Promise<void> {
    const { settings, handler, logger, metrics } = this.options;
    const started = performance.now();
    const timer = setTimeout(() => entry.controller.abort(new HandlerTimeoutError(settings.handlerTimeoutSeconds)), settings.handlerTimeoutSeconds * 1000);
    let failure: { reason: FailureReason; error: unknown } | undefined;
    const { invocation, result } = this.invocations.start(entry.messageId, () => handler(entry.message, { signal: entry.controller.signal, logger }));
    try {
      await raceAbort(result, entry.controller.signal);
    } catch (error) {
      failure = { reason: error instanceof HandlerTimeoutError ? "timeout" : entry.released ? "shutdown" : "error", error };
    } finally {
      clearTimeout(timer);
    }
    metrics.handlerDuration.observe((performance.now() - started) / 1000);
    if (entry.controller.signal.aborted) void this.invocations.giveUp(invocation);
    this.finish(entry);
    if (entry.released) return;
    if (failure === undefined) {
      metrics.succeeded.inc();
      // An extension on its way would fail on a deleted message: delete after it.
      const extending = this.visibility.settle(entry);
      if (extending !== undefined) await extending;
      this.acknowledger.ack(entry.messageId, entry.receiptHandle, entry.visibleAt);
      return;
    }
    metrics.failed.inc({ reason: failure.reason });
    const delaySeconds = retryDelaySeconds(entry.message.receiveCount, settings.retryBaseSeconds, settings.retryMaxSeconds);
    logger.warn(
      {
        event: "handler-failed",
        messageId: entry.messageId,
        receiveCount: entry.message.receiveCount,
        reason: failure.reason,
        err: failure.error,
        retryInSeconds: delaySeconds > 0 ? delaySeconds : undefined,
      },
      failure.reason === "timeout" ? "handler timed out; the message will be delivered again" : "handler failed; the message will be delivered again",
    );
    if (delaySeconds > 0) await this.visibility.release([{ message: entry, delaySeconds }]);
  }

  /** The consumer is done waiting for the handler; its slot is given back when the handler settles (Invocations). */
  private finish(entry: InFlight): void {
    this.inFlight.delete(entry);
    this.options.metrics.inFlight.dec();
    if (this.inFlight.size === 0) this.idle?.();
  }
}

/** Thrown into a handler's race when its hard limit passes. */
export class HandlerTimeoutError extends Error {
  readonly code = "E_HANDLER_TIMEOUT";
  constructor(seconds: number) {
    super(`handler did not finish within ${seconds} s`);
    this.name = "HandlerTimeoutError";
  }
}

/** Settles with the promise, or rejects with the signal's reason when it aborts first. */
function raceAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(`handler rejected with ${String(error)}`, { cause: error }));
      },
    );
  });
}

function toReceivedMessage(raw: Message): ReceivedMessage {
  const attributes = (raw.Attributes ?? {}) as Record<string, string>;
  return {
    messageId: raw.MessageId ?? "",
    body: raw.Body ?? "",
    md5OfBody: raw.MD5OfBody ?? "",
    receiveCount: Number(attributes.ApproximateReceiveCount ?? "1"),
    attributes,
    messageAttributes: raw.MessageAttributes ?? {},
  };
}
