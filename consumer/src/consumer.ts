import type { SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "./backoff";
import { Capacity } from "./capacity";
import { Dispatcher } from "./dispatch";
import type { HintContext } from "./errors";
import type { MessageHandler } from "./handler";
import type { Liveness } from "./health-server";
import { InFlightMessages, type InFlight } from "./in-flight";
import { Invocations } from "./invocations";
import type { Logger } from "./logger";
import { isFifoQueueUrl, MessageGroups } from "./message-groups";
import type { Metrics } from "./metrics";
import { Processor } from "./processing";
import { Readiness } from "./readiness";
import { ReceiveLoops } from "./receive-loop";
import type { Settings } from "./settings";
import { Settlement } from "./settlement";
import { ConsumerTracing } from "./tracing";
import { Visibility } from "./visibility";

/** Part of the shutdown budget kept for deleting what succeeded and releasing what did not. */
const SHUTDOWN_RESERVE_MAX_MS = 2_000;
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

/**
 * The consumer: receive loops that long-poll SQS for as many messages as there are free handler
 * slots (receive-loop.ts), dispatch of each receive's messages (dispatch.ts), a handler run per
 * message with a hard timeout (processing.ts), batched deletes of successes and delayed redelivery of
 * failures (settlement.ts), a visibility heartbeat for long handlers (visibility.ts), and a graceful stop.
 */
export class Consumer {
  readonly readiness: Readiness;
  /** Handler invocations that have not settled (see Invocations). */
  readonly invocations: Invocations;
  /**
   * What /livez reports, read at each probe: not live once abandoned handlers hold more than half of
   * the slots (see Invocations) or a receive loop ended while the consumer runs (see ReceiveLoops);
   * only a restart recovers from either.
   */
  readonly liveness: Liveness;
  private readonly capacity: Capacity;
  private readonly visibility: Visibility;
  /** Held messages: running, or waiting behind their FIFO group's running message. */
  private readonly inFlight: InFlightMessages;
  private readonly groups: MessageGroups<InFlight>;
  private readonly settlement: Settlement;
  private readonly processor: Processor;
  private readonly receiveLoops: ReceiveLoops;
  /** Aborted when shutdown begins: no receive starts after that. */
  private readonly receiving = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: ConsumerOptions) {
    const { settings, sqs, handler, logger, metrics, hints } = options;
    this.readiness = new Readiness(logger, metrics, () => this.receiveLoops.open);
    this.capacity = new Capacity(settings.handlerConcurrency);
    this.invocations = new Invocations(settings.handlerConcurrency, this.capacity, metrics, logger);
    const tracing = new ConsumerTracing(settings.queueUrl);
    this.visibility = new Visibility({
      sqs,
      queueUrl: settings.queueUrl,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      hints,
      logger,
      metrics,
    });
    this.inFlight = new InFlightMessages(metrics);
    this.groups = new MessageGroups(isFifoQueueUrl(settings.queueUrl));
    this.settlement = new Settlement({ settings, sqs, hints, logger, metrics, tracing, visibility: this.visibility });
    const shared = {
      settings,
      logger,
      metrics,
      capacity: this.capacity,
      invocations: this.invocations,
      inFlight: this.inFlight,
      groups: this.groups,
      settlement: this.settlement,
    };
    this.processor = new Processor({ ...shared, handler, tracing });
    const dispatcher = new Dispatcher({ ...shared, processor: this.processor, receiving: this.receiving.signal });
    this.receiveLoops = new ReceiveLoops({
      settings,
      sqs,
      metrics,
      hints,
      logger,
      capacity: this.capacity,
      readiness: this.readiness,
      tracing,
      fifo: this.fifo,
      receiving: this.receiving.signal,
      onReceived: (messages, receivedAt, receiveContext, slots) =>
        dispatcher.dispatch(messages, receivedAt, receiveContext, slots),
    });
    const parts = [this.invocations, this.receiveLoops];
    this.liveness = {
      get live() {
        return parts.every((part) => part.live);
      },
      get reason() {
        return parts
          .filter((part) => !part.live)
          .map((part) => part.reason)
          .join("; ");
      },
    };
  }

  /** True for a FIFO queue: messages of a group are handled one at a time, in order. */
  get fifo(): boolean {
    return this.groups.ordered;
  }

  /** Starts the visibility heartbeat over the held messages, then the receive loops. */
  start(): void {
    this.visibility.startHeartbeat(() => this.inFlight);
    this.receiveLoops.start();
  }

  /**
   * Graceful stop, idempotent: start no more receives and abort the long polls, let handlers finish
   * within the shutdown budget (SHUTDOWN_BUDGET_SECONDS), then delete what succeeded and make the rest
   * visible again. Never rejects.
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
    // Messages waiting behind a running one of their FIFO group are not started: given back, in order.
    const waiting = this.groups.takeAllWaiting();
    for (const entry of waiting) this.inFlight.unhold(entry);
    this.settlement.returnAtShutdown(waiting);
    logger.info(
      { event: "stopping", inFlight: this.inFlight.size, budgetSeconds: settings.shutdownBudgetSeconds },
      "stopping: no more receives",
    );
    const settled = setTimeout(() => this.receiveLoops.hangUp(), Math.min(RECEIVE_SETTLE_MS, budgetMs / 4));
    // A loop can be stuck where an abort does not reach (a credential fetch): wait for it no longer
    // than the handlers may run; whatever it brings later is given back like any late receive.
    const loopsDone = new AbortController();
    await Promise.race([this.receiveLoops.ended(), sleep(handlersDeadline - Date.now(), loopsDone.signal)]);
    loopsDone.abort();
    clearTimeout(settled);
    // Given back: what was set aside so far, and whatever a receive still open brings later.
    const returning = this.settlement.releaseReturned(
      this.receiveLoops.ended(),
      () => this.receiveLoops.abandonedPollsEndAt,
      end,
    );
    if (this.inFlight.size > 0) {
      const allDone = new AbortController();
      this.processor.whenIdle(() => allDone.abort());
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
    const handlersSettled = Promise.race([this.processor.allSettled(), sleep(end - Date.now(), outOfTime.signal)]);
    const [, , released] = await Promise.all([
      this.settlement.drainDeletes(end),
      returning,
      this.settlement.releaseWhenSafe(unfinished, this.receiveLoops.abandonedPollsEndAt, end),
      handlersSettled,
    ]);
    outOfTime.abort();
    const returns = this.settlement.returns;
    logger.info(
      {
        event: "stopped",
        released,
        returned: returns.madeVisible,
        // Given back but not made visible (a release failed or came too late): hidden until their visibility timeout ends.
        stillHidden: unfinished.length - released + returns.setAside - returns.madeVisible,
        // A receive still open may yet be handed messages that nobody gives back.
        receivesOpen: [...this.receiveLoops.open].length,
        tookMs: Date.now() - startedAt,
      },
      "stopped",
    );
  }
}
