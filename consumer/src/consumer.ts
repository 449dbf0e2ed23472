import type { SQSClient } from "@aws-sdk/client-sqs";
import { Dispatcher } from "./dispatch";
import type { Classify } from "./errors";
import { EventLoopWatch } from "./event-loop";
import { Capacity, Handling } from "./handle";
import type { Handler } from "./handler";
import { Readiness, type Liveness } from "./health";
import type { Logger } from "./logger";
import { MessageMemory, memoryLimit } from "./memory";
import type { Metrics } from "./metrics";
import { ReceiveLoops } from "./receive";
import { isFifoQueueUrl, type Settings } from "./settings";
import { Settlement } from "./settle";
import { sleep } from "./sqs-client";
import { ConsumerTracing } from "./tracing";

/** Part of the shutdown budget kept for deleting what succeeded and changing the visibility of the rest. */
const SHUTDOWN_RESERVE_MAX_MS = 2_000;
/**
 * How long receives open at shutdown may still answer before the consumer hangs up on them. SQS
 * hides what it hands to a receive, so hanging up on one whose answer is on its way would hide its
 * messages for a visibility timeout; a receive still open after this is waiting on an empty queue.
 */
const RECEIVE_SETTLE_MS = 1_000;

/** What every step of a message's life shares, set up once per consumer. */
export interface ConsumerContext {
  readonly settings: Settings;
  readonly sqs: SQSClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: ConsumerTracing;
  /** Classifies a failed AWS call, with hints for this queue and identity. */
  readonly classify: Classify;
  /** The memory budget: receives reserve room in it, held messages are charged to it (memory.ts). */
  readonly memory: MessageMemory;
  /** True for a FIFO queue: receives carry an attempt id, and a group's messages are handled one at a time, in order. */
  readonly fifo: boolean;
  /** Aborted when shutdown begins: no receive starts after that, and what a receive brings is not started. */
  readonly stopping: AbortSignal;
}

export interface ConsumerOptions {
  readonly settings: Settings;
  readonly sqs: SQSClient;
  /** The user's code: a message handler or a batch handler. */
  readonly handler: Handler;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Classifies a failed AWS call, its hints bound to this queue and identity (`classifyAwsError`). */
  readonly classify: Classify;
  /** The memory budget; defaults to the one for this container's memory limit (`MessageMemory.forLimit`). */
  readonly memory?: MessageMemory;
}

/**
 * The consumer, a message's life in four steps, each one module: receive loops that long-poll SQS for as
 * many messages as there are free handler slots (receive.ts); dispatch of each receive's messages, FIFO
 * order included (dispatch.ts); the handler run under its hard limit (handle.ts); deletes of successes
 * and visibility changes of the rest, with the visibility heartbeat (settle.ts). And a graceful stop.
 */
export class Consumer {
  readonly readiness: Readiness;
  /** Handler runs, and the invocations that have not settled (see Invocations). */
  readonly handling: Handling;
  /**
   * What /livez reports, read at each probe: not live once abandoned handlers hold more than half of
   * the slots (see Invocations) or a receive loop ended while the consumer runs (see ReceiveLoops);
   * only a restart recovers from either.
   */
  readonly liveness: Liveness;
  private readonly ctx: ConsumerContext;
  private readonly slots: Capacity;
  private readonly settlement: Settlement;
  private readonly dispatcher: Dispatcher;
  private readonly receiveLoops: ReceiveLoops;
  private readonly eventLoop: EventLoopWatch;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor({ settings, sqs, handler, logger, metrics, classify, memory }: ConsumerOptions) {
    this.ctx = {
      settings,
      sqs,
      logger,
      metrics,
      tracing: new ConsumerTracing(settings.queueUrl),
      classify,
      memory: memory ?? MessageMemory.forLimit(memoryLimit()),
      fifo: isFifoQueueUrl(settings.queueUrl),
      stopping: this.stopping.signal,
    };
    const budget = this.ctx.memory;
    metrics.watchMemory(() => ({ budget: budget.budgetBytes, reserved: budget.reserved, held: budget.held }));
    this.readiness = new Readiness(logger, metrics, () => this.receiveLoops.open);
    this.slots = new Capacity(settings.handlerConcurrency, undefined, this.ctx.fifo);
    this.handling = new Handling(this.ctx, handler, this.slots);
    this.settlement = new Settlement(this.ctx);
    this.dispatcher = new Dispatcher(this.ctx, this.slots, this.handling, this.settlement);
    this.receiveLoops = new ReceiveLoops(this.ctx, this.slots, this.readiness, (messages, at, context, slots) =>
      this.dispatcher.dispatch(messages, at, context, slots),
    );
    this.eventLoop = new EventLoopWatch(settings.visibilityTimeoutSeconds, logger, metrics, (now) => {
      let lapsed = 0;
      for (const entry of this.dispatcher.inFlight) if (entry.visibleAt <= now) lapsed++;
      return lapsed;
    });
    const parts = [this.handling.invocations, this.receiveLoops];
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
    return this.ctx.fifo;
  }

  /**
   * The queue's redrive maxReceiveCount, once the start-up checks have read it (undefined without a
   * redrive policy): a failure on that receive is logged as moving the message to the DLQ.
   */
  set maxReceiveCount(count: number | undefined) {
    this.settlement.maxReceiveCount = count;
  }

  /** The memory budget receives and held messages are charged to. */
  get memory(): MessageMemory {
    return this.ctx.memory;
  }

  /** Starts the event-loop watch (event-loop.ts), the visibility heartbeat over the held messages, then the receive loops. */
  start(): void {
    this.eventLoop.start();
    this.settlement.startHeartbeat(() => this.dispatcher.inFlight);
    this.receiveLoops.start();
  }

  /**
   * Graceful stop, idempotent: start no more receives and abort the long polls, let handlers finish
   * within the shutdown budget (SHUTDOWN_BUDGET_SECONDS), then delete what succeeded and change the
   * visibility of the rest so SQS delivers it again at once. Never rejects.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    const { settings, logger } = this.ctx;
    const startedAt = Date.now();
    const budgetMs = settings.shutdownBudgetSeconds * 1000;
    const end = startedAt + budgetMs;
    const handlersDeadline = end - Math.min(SHUTDOWN_RESERVE_MAX_MS, budgetMs / 4);
    this.readiness.stopping();
    this.slots.close();
    this.stopping.abort();
    // Messages waiting behind a running one of their FIFO group are not started: back to SQS, in order.
    const waiting = this.dispatcher.takeWaiting();
    void this.settlement.changeVisibility(waiting.map((message) => ({ message, reason: "shutdown" })));
    logger.info(
      { event: "stopping", inFlight: this.dispatcher.inFlight.size, budgetSeconds: settings.shutdownBudgetSeconds },
      "stopping: no more receives",
    );
    const settled = setTimeout(() => this.receiveLoops.hangUp(), Math.min(RECEIVE_SETTLE_MS, budgetMs / 4));
    // A loop can be stuck where an abort does not reach (a credential fetch): wait for it no longer
    // than the handlers may run; whatever it brings later has its visibility changed like any late receive.
    const loopsDone = new AbortController();
    await Promise.race([this.receiveLoops.ended(), sleep(handlersDeadline - Date.now(), loopsDone.signal)]);
    loopsDone.abort();
    clearTimeout(settled);
    this.settlement.openShutdownWindow(end, () => this.receiveLoops.hungUpReceivesEndAt);
    if (this.dispatcher.inFlight.size > 0) {
      const allDone = new AbortController();
      this.dispatcher.whenIdle(() => allDone.abort());
      await sleep(handlersDeadline - Date.now(), allDone.signal);
    }
    this.settlement.stopHeartbeat();

    const unfinished = [...this.dispatcher.inFlight];
    for (const entry of unfinished) {
      entry.cutOff = true;
      entry.runAbort?.abort(new Error("shutdown budget exhausted"));
    }
    this.handling.cutOff();
    void this.settlement.changeVisibility(unfinished.map((message) => ({ message, reason: "shutdown" })));
    // Failed handlers change their message's visibility after they return; wait for that too, within the budget.
    const outOfTime = new AbortController();
    const runsSettled = Promise.race([this.dispatcher.allSettled(), sleep(end - Date.now(), outOfTime.signal)]);
    const [, account] = await Promise.all([
      this.settlement.drainDeletes(end),
      this.settlement.closeShutdownWindow(this.receiveLoops.ended()),
      runsSettled,
    ]);
    outOfTime.abort();
    this.eventLoop.stop();
    logger.info(
      {
        event: "stopped",
        // Messages whose handler the budget cut off, and messages never started (waiting behind their
        // FIFO group, or received as shutdown began): their visibility is changed so SQS delivers them again.
        unfinished: unfinished.length,
        notStarted: account.given - unfinished.length,
        visibilityChanged: account.changed,
        // Of those, not changed (a change failed or came too late): hidden until their visibility timeout ends.
        stillHidden: account.given - account.changed,
        // A receive still open may yet be handed messages that nobody changes.
        receivesOpen: [...this.receiveLoops.open].length,
        tookMs: Date.now() - startedAt,
      },
      "stopped",
    );
  }
}
