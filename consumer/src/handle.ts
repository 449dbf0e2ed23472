import { randomUUID } from "node:crypto";
import { context as otelContext, type Context, type SpanContext } from "@opentelemetry/api";
import { batchVerdicts, eventSource, readBatchAnswer, toSqsEvent, type BatchVerdict, type EventSource } from "./batch";
import type { ConsumerContext } from "./consumer";
import type { InFlight } from "./dispatch";
import { BatchAnswerInvalidError, HandlerTimeoutError } from "./errors";
import type { Handler } from "./handler";
import type { FailureReason } from "./metrics";

/**
 * The handle step: the handler called for one held message, or for a batch of them, under its hard limit
 * (HANDLER_TIMEOUT_SECONDS, then its signal aborts and the consumer stops waiting), inside its process
 * span, in handler slots (Capacity), one per message, that stay taken until the handler's promise
 * settles (Invocations). It decides what the handler's run was (its Outcome) and counts it; dispatch.ts
 * decides what follows.
 */

/** Why a handler did not succeed, and what it threw (or the abort reason). */
export interface HandlerFailure {
  readonly reason: FailureReason;
  readonly error: unknown;
}

/** What one handler run came to: a failure or none, and its process span (for the delete's settle span link). */
export interface Outcome {
  readonly failure: HandlerFailure | undefined;
  readonly processSpan: SpanContext | undefined;
}

/**
 * What one batch handler run came to: a verdict per message, in batch order; the failure of the whole
 * batch (what the handler threw, the hard limit, shutdown, an answer Lambda would not accept), or
 * undefined when the handler answered, listing the failed messages or none; and its process span.
 */
export interface BatchOutcome {
  readonly verdicts: readonly BatchVerdict[];
  readonly failure: HandlerFailure | undefined;
  /** FIFO queues: messages the handler did not list as failed that become visible again behind a failure of their group. */
  readonly overruled: readonly string[];
  readonly processSpan: SpanContext | undefined;
}

/**
 * Runs the handler of held messages, each in a slot already reserved for it. Never rejects: a handler's
 * throw, rejection or timeout is a failure in its Outcome.
 */
export class Handling {
  readonly invocations: Invocations;
  private readonly source: EventSource;
  private endCutOffs!: () => void;
  /** Resolves when shutdown cuts off the held messages (see cutOff). */
  private readonly cutOffs = new Promise<void>((resolve) => (this.endCutOffs = resolve));

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly handler: Handler,
    slots: Capacity,
  ) {
    this.invocations = new Invocations(ctx, slots);
    this.source = eventSource(ctx.settings.queueUrl, ctx.settings.region);
  }

  /** True when the handler takes batches (handleBatch). */
  get batches(): boolean {
    return this.handler.handleBatch !== undefined;
  }

  /**
   * Runs one message's handler. Its failure reason is `timeout` past the hard limit, `shutdown` when
   * shutdown cut it off (`entry.cutOff`), else `error`.
   */
  async run(entry: InFlight): Promise<Outcome> {
    const { handleMessage } = this.handler;
    if (handleMessage === undefined) throw new TypeError("run needs a message handler; batches go to runBatch");
    const { settings, logger, metrics, tracing } = this.ctx;
    const traceContext = tracing.startProcess(entry.message, entry.receiveContext);
    const { failure } = await this.invoke([entry], traceContext, (runAbort) =>
      handleMessage(entry.message, {
        get signal() {
          return runAbort.signal;
        },
        logger,
        settings,
        traceContext,
      }),
    );
    tracing.endProcess(traceContext, failure && { kind: failure.reason, error: failure.error });
    if (failure === undefined && !entry.cutOff) metrics.succeeded.inc();
    if (failure !== undefined) metrics.failed.inc({ reason: failure.reason });
    return { failure, processSpan: tracing.processSpanContext(traceContext) };
  }

  /**
   * Runs the batch handler once for `entries` (in the order SQS delivered them), under one hard limit,
   * and reads its answer as Lambda reads a partial batch response (batch.ts). A throw, the hard limit, or
   * an answer Lambda would not accept fails every message; the failure reason is as for a message.
   */
  async runBatch(entries: readonly InFlight[]): Promise<BatchOutcome> {
    const { handleBatch } = this.handler;
    if (handleBatch === undefined) throw new TypeError("runBatch needs a batch handler; messages go to run");
    const { settings, logger, metrics, tracing, fifo } = this.ctx;
    const traceContext = tracing.startBatchProcess(
      entries.map((entry) => entry.message),
      entries[0]!.receiveContext,
    );
    const event = toSqsEvent(
      entries.map((entry) => ({ message: entry.message, receiptHandle: entry.receiptHandle })),
      this.source,
    );
    const awsRequestId = randomUUID();
    const invoked = await this.invoke(entries, traceContext, (runAbort, deadline) =>
      handleBatch(event, {
        get signal() {
          return runAbort.signal;
        },
        logger,
        settings,
        traceContext,
        awsRequestId,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      }),
    );
    let failure = invoked.failure;
    let failed: ReadonlySet<string> | "all" = "all";
    if (failure === undefined) {
      const answer = readBatchAnswer(invoked.value, new Set(entries.map((entry) => entry.messageId)));
      if (answer.ok) failed = answer.failed;
      else failure = { reason: "error", error: new BatchAnswerInvalidError(answer.reason, awsRequestId) };
    }
    const verdicts = batchVerdicts(entries, failed, fifo);
    const listed = verdicts.filter((verdict) => verdict === "failed").length;
    const cutOff = entries.some((entry) => entry.cutOff);
    tracing.endProcess(
      traceContext,
      failure !== undefined
        ? { kind: failure.reason, error: failure.error }
        : listed > 0
          ? { kind: "partial_failure", error: `${listed} of ${entries.length} messages failed` }
          : undefined,
    );
    for (const verdict of verdicts) {
      if (verdict === "succeeded" && !cutOff) metrics.succeeded.inc();
      if (verdict === "failed") metrics.failed.inc({ reason: failure?.reason ?? "error" });
    }
    const overruled =
      failed === "all"
        ? []
        : entries
            .filter((entry, i) => verdicts[i] === "behind" && !failed.has(entry.messageId))
            .map((e) => e.messageId);
    return { verdicts, failure, overruled, processSpan: tracing.processSpanContext(traceContext) };
  }

  /**
   * Calls the handler for `entries` in their slots, under one hard limit from now (their `deadline`):
   * the run's RunAbort, which the entries carry while it runs, aborts with a HandlerTimeoutError when it
   * passes, or when shutdown cuts them off. Resolves with what the handler resolved with, or the failure.
   *
   * A handler that ignores its signal (an unchanged Lambda handler never reads one) is abandoned at its
   * limit, and its outcome is waited for: its messages stay held, and the heartbeat keeps them
   * invisible (their `deadline` no longer caps it) until it settles, so SQS neither hands them out again
   * nor counts a receive toward maxReceiveCount meanwhile; then they are settled by what it came to.
   * Only shutdown cutting them off (`cutOff`) stops that wait.
   */
  private async invoke<T>(
    entries: readonly InFlight[],
    traceContext: Context,
    call: (runAbort: RunAbort, deadline: number) => Promise<T>,
  ): Promise<{ readonly value?: T; readonly failure: HandlerFailure | undefined }> {
    const { settings, metrics } = this.ctx;
    const started = performance.now();
    const deadline = Date.now() + settings.handlerTimeoutSeconds * 1000;
    const runAbort = new RunAbort();
    for (const entry of entries) {
      entry.deadline = deadline;
      entry.runAbort = runAbort;
      if (entry.cutOff) runAbort.abort(new Error("shutdown budget exhausted"));
    }
    const timer = setTimeout(
      () => runAbort.abort(new HandlerTimeoutError(settings.handlerTimeoutSeconds)),
      settings.handlerTimeoutSeconds * 1000,
    );
    const { invocation, result } = this.invocations.start(
      entries.map((entry) => entry.messageId),
      () => otelContext.with(traceContext, () => call(runAbort, deadline)),
    );
    let value: T | undefined;
    let failure: HandlerFailure | undefined;
    try {
      value = await runAbort.race(result);
    } catch (error) {
      failure = failureOf(error, entries);
    } finally {
      clearTimeout(timer);
    }
    if (runAbort.aborted && (await this.invocations.abandon(invocation)) && !entries.some((e) => e.cutOff)) {
      for (const entry of entries) entry.deadline = Number.POSITIVE_INFINITY;
      const late = await Promise.race([settledOf(result), this.cutOffs.then(() => undefined)]);
      if (late !== undefined) {
        value = late.ok ? late.value : undefined;
        failure = late.ok ? undefined : failureOf(late.error, entries);
      } else failure = failureOf(new Error("shutdown budget exhausted"), entries);
    }
    for (const entry of entries) if (entry.runAbort === runAbort) entry.runAbort = undefined;
    metrics.handlerDuration.observe((performance.now() - started) / 1000);
    return failure === undefined ? { value: value as T, failure } : { failure };
  }

  /**
   * Shutdown has cut off every held message (`cutOff`) and changed its visibility: the runs waiting for
   * an abandoned handler's outcome stop waiting.
   */
  cutOff(): void {
    this.endCutOffs();
  }
}

/** What a settled promise came to, without rejecting. */
function settledOf<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Why a handler run failed: its hard limit passed, shutdown cut its messages off, or it threw. */
function failureOf(error: unknown, entries: readonly InFlight[]): HandlerFailure {
  return {
    reason: error instanceof HandlerTimeoutError ? "timeout" : entries.some((e) => e.cutOff) ? "shutdown" : "error",
    error,
  };
}

/**
 * The abort of one handler run: its hard limit passing, or shutdown cutting its messages off. The
 * handler's AbortSignal is made when the handler first reads it (most never do, and an AbortController
 * and its listener cost more than the rest of a short handler's bookkeeping), already aborted if the run
 * was; `race` ends the consumer's wait for the handler at the abort either way.
 */
export class RunAbort {
  private controller: AbortController | undefined;
  private reject: ((reason: Error) => void) | undefined;
  /** Why the run was aborted; undefined until it is. */
  private reason: Error | undefined;

  /** True once `abort` was called. */
  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** The handler's signal: aborted with the run's reason (a HandlerTimeoutError, or the shutdown error). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the run with `reason`: the signal aborts, and `race` rejects with `reason`. Later calls do nothing. */
  abort(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.reject?.(reason);
  }

  /**
   * Settles with the handler's promise, or rejects with the abort's reason when the run is aborted first.
   * A rejection that is not an Error becomes one (its value the cause).
   */
  race<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.reason !== undefined) reject(this.reason);
      else this.reject = reject;
      promise.then(resolve, (error: unknown) =>
        reject(error instanceof Error ? error : new Error(`handler rejected with ${String(error)}`, { cause: error })),
      );
    });
  }
}

/** One call of the handler, from its start until its promise settles, however late that is. */
export interface Invocation {
  /** The message it handles, or the messages of its batch. */
  readonly messageIds: readonly string[];
  readonly startedAt: number;
  /** The handler's promise settled (resolved or rejected). */
  settled: boolean;
  /** It passed its hard limit (or shutdown cut it off) without settling. */
  abandoned: boolean;
  /** Resolves when the handler's promise settles. Never rejects. */
  readonly done: Promise<void>;
}

/**
 * The handler invocations that have not settled, by message id (a batch's invocation under each of its
 * messages): what makes HANDLER_CONCURRENCY and "one message, one invocation at a time" hard limits. A
 * handler that ignores its abort signal keeps running after its timeout; its slots stay taken until its
 * promise settles, and its messages stay held and invisible meanwhile (see Handling.invoke).
 *
 * Liveness: once more than half of the slots are held by abandoned invocations, the process can no
 * longer do its job and only a restart frees them: `live` turns false and /livez answers 503.
 */
export class Invocations {
  private readonly running = new Map<string, Invocation>();
  private abandonedCount = 0;
  /** Slots the abandoned invocations hold: one per message (a batch holds one per message of it). */
  private abandonedSlots = 0;

  constructor(
    private readonly ctx: Pick<ConsumerContext, "settings" | "metrics" | "logger">,
    private readonly slots: Capacity,
  ) {}

  /** Most slots abandoned invocations hold in a live process: half of HANDLER_CONCURRENCY, rounded down. */
  get abandonedLimit(): number {
    return Math.floor(this.ctx.settings.handlerConcurrency / 2);
  }

  /** Invocations abandoned and not settled. */
  get abandoned(): number {
    return this.abandonedCount;
  }

  get live(): boolean {
    return this.abandonedSlots <= this.abandonedLimit;
  }

  /** Why the process is not live, for /livez. */
  get reason(): string {
    const { handlerConcurrency } = this.ctx.settings;
    return (
      `${this.abandonedCount} handler(s) ignored their abort signal and never settled, holding ${this.abandonedSlots} ` +
      `slot(s), more than half of HANDLER_CONCURRENCY (${handlerConcurrency} slots, limit ${this.abandonedLimit})`
    );
  }

  /** The invocation of this message that has not settled yet, if any. */
  get(messageId: string): Invocation | undefined {
    return this.running.get(messageId);
  }

  /**
   * Calls the handler for one message or one batch. The slots the receive reserved for these messages
   * are freed when the handler's promise settles, not before. Returns the handler's promise (a
   * synchronous throw becomes a rejection).
   */
  start<T>(messageIds: readonly string[], call: () => Promise<T>): { invocation: Invocation; result: Promise<T> } {
    const result = Promise.resolve().then(call);
    const invocation: Invocation = {
      messageIds,
      startedAt: Date.now(),
      settled: false,
      abandoned: false,
      done: result.then(
        () => this.end(invocation),
        () => this.end(invocation),
      ),
    };
    for (const id of messageIds) this.running.set(id, invocation);
    return { invocation, result };
  }

  /**
   * Called when an invocation's signal aborted (timeout, shutdown). A handler that honours its signal
   * settles within a turn of the event loop; one that has not by then is abandoned: counted, logged,
   * and still holding its slots. Resolves true when it was abandoned.
   */
  async abandon(invocation: Invocation): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    if (invocation.settled) return false;
    invocation.abandoned = true;
    this.abandonedCount++;
    this.abandonedSlots += invocation.messageIds.length;
    this.ctx.metrics.handlersAbandoned.set(this.abandonedCount);
    this.ctx.logger.warn(
      {
        event: "handler-abandoned",
        ...describeInvocation(invocation),
        abandoned: this.abandonedCount,
        slots: this.abandonedSlots,
        limit: this.abandonedLimit,
      },
      "the handler ignored its abort signal: its slots stay taken and its messages invisible until it settles, then they are deleted or delivered again as it came out",
    );
    return true;
  }

  private end(invocation: Invocation): void {
    invocation.settled = true;
    for (const id of invocation.messageIds) if (this.running.get(id) === invocation) this.running.delete(id);
    this.slots.release(invocation.messageIds.length);
    if (!invocation.abandoned) return;
    this.abandonedCount--;
    this.abandonedSlots -= invocation.messageIds.length;
    this.ctx.metrics.handlersAbandoned.set(this.abandonedCount);
    this.ctx.logger.info(
      {
        event: "abandoned-handler-settled",
        ...describeInvocation(invocation),
        afterMs: Date.now() - invocation.startedAt,
      },
      "an abandoned handler settled: its slots are free again",
    );
  }
}

/** An invocation in log fields: its message, or its batch's messages. */
function describeInvocation({ messageIds }: Invocation): Record<string, unknown> {
  return messageIds.length === 1 ? { messageId: messageIds[0] } : { messageIds };
}

/** Who asks for slots: a receive loop (up to a batch), or a held FIFO message that may run now. */
export type Reserver = "receive" | "held";

/** A reservation waiting for slots, in the queue `release` serves from the front. */
interface Waiter {
  readonly reserver: Reserver;
  /** Most slots it takes. */
  readonly max: number;
  /** Slots it waits for before it takes fewer (a full batch): min(max, limit). */
  readonly batch: number;
  /** The fill wait for a full batch is over: it takes whatever is free at the next chance. */
  filled: boolean;
  fillTimer: NodeJS.Timeout | undefined;
  readonly resolve: (slots: number) => void;
}

/**
 * Handler slots shared by every receive loop. A loop reserves slots before it asks SQS for messages,
 * so the consumer never holds more messages than it can handle at once: messages waiting in memory
 * would only burn their visibility timeout. A slot is taken from the receive until the handler's
 * promise settles, past its timeout if it ignores its abort signal (see Invocations): the limit counts
 * every handler invocation still running.
 *
 * Freed slots go to the waiting reservations in order, handed over by Capacity itself, so whoever
 * gives slots back cannot take them again ahead of a waiter. A held FIFO message whose turn has come
 * (`reserve(1, "held")`) goes before every receive loop: it needs no receive, while a receive can bring
 * nothing for the group that message still locks in SQS. Its turn comes in the same turn of the event
 * loop as its group's previous message settles and frees a slot (dispatch.ts), so on FIFO queues
 * receive loops are served only from the next turn (setImmediate): the slot a group's message frees
 * goes to the group's next message, not to a long poll that cannot bring it. On standard queues no
 * message is held for its turn, and a loop is served at once: its next receive goes out while the
 * messages it brought are handled, instead of after them (measured in `npm run bench`, scenario P).
 * `reserve` answers 0 only once closed.
 */
export class Capacity {
  private used = 0;
  /** Waiting reservations: every "held" one before every "receive" one, each kind in arrival order. */
  private readonly waiters: Waiter[] = [];
  private closedFlag = false;
  /** The next turn's grant to receive loops, when one is due. */
  private receivesTurn: NodeJS.Immediate | undefined;

  /**
   * @param limit handler slots in all
   * @param fillWaitMs how long a loop that finds only a few slots free waits for a full batch (see reserve)
   * @param heldFirst true on FIFO queues: receive loops are served from the next turn, after held messages
   */
  constructor(
    private readonly limit: number,
    private readonly fillWaitMs = 50,
    private readonly heldFirst = true,
  ) {}

  /** Slots that are neither handling a message nor reserved by a pending receive. */
  get free(): number {
    return this.limit - this.used;
  }

  /** True once `close` was called: every reservation, waiting or new, is answered 0. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Reservations waiting for slots. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Reserves between 1 and `max` slots, waiting as long as it takes; resolves 0 only once closed
   * (shutdown), and then the caller must not receive or start anything more.
   *
   * A receive loop (`reserver` "receive") waits behind every earlier reservation. When fewer than
   * min(`max`, limit) slots are free (handlers finish one at a time), it waits up to `fillWaitMs` for
   * that many rather than send a receive per freed slot, so a saturated consumer still receives full
   * batches; after that it takes what is free, or the next slot freed. A held FIFO message ("held")
   * goes ahead of every receive loop.
   */
  reserve(max: number, reserver: Reserver = "receive"): Promise<number> {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`reserve needs a whole number of slots, at least 1; got ${max}`);
    if (this.closedFlag) return Promise.resolve(0);
    return new Promise<number>((resolve) => {
      const waiter: Waiter = {
        reserver,
        max,
        batch: Math.min(max, this.limit),
        filled: false,
        fillTimer: undefined,
        resolve,
      };
      const firstReceive = this.waiters.findIndex((w) => w.reserver === "receive");
      if (reserver === "held" && firstReceive !== -1) this.waiters.splice(firstReceive, 0, waiter);
      else this.waiters.push(waiter);
      this.grant(false);
    });
  }

  /** Returns slots: unused reservations, or finished messages. Waiting reservations get them first. */
  release(count: number): void {
    if (count <= 0) return;
    if (count > this.used)
      throw new RangeError(`released ${count} slot(s) with only ${this.used} taken: a slot was freed twice`);
    this.used -= count;
    this.grant(false);
  }

  /** Answers every waiting reservation, and every later one, with 0; used when shutting down. */
  close(): void {
    this.closedFlag = true;
    clearImmediate(this.receivesTurn);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.fillTimer);
      waiter.resolve(0);
    }
  }

  /**
   * Hands free slots to the waiters from the front: "held" ones at once, receive loops only when
   * `receivesNow` (a turn of its own) or not `heldFirst`, else from the next turn. The front waiter short of a full batch
   * keeps its place for at most `fillWaitMs` (a "held" one arriving meanwhile still goes ahead of it).
   */
  private grant(receivesNow: boolean): void {
    while (this.waiters.length > 0 && this.free > 0) {
      const head = this.waiters[0] as Waiter;
      if (head.reserver === "receive" && !receivesNow && this.heldFirst) {
        this.receivesTurn ??= setImmediate(() => {
          this.receivesTurn = undefined;
          this.grant(true);
        });
        return;
      }
      if (this.free < head.batch && !head.filled) {
        head.fillTimer ??= setTimeout(() => this.fillWaitOver(head), this.fillWaitMs);
        return;
      }
      this.waiters.shift();
      clearTimeout(head.fillTimer);
      const granted = Math.min(head.max, this.free);
      this.used += granted;
      head.resolve(granted);
    }
  }

  /** The wait for a full batch is over: take what is free; if nothing is, wait for a slot and a new fill wait. */
  private fillWaitOver(waiter: Waiter): void {
    waiter.fillTimer = undefined;
    if (!this.waiters.includes(waiter)) return;
    if (this.free > 0) waiter.filled = true;
    this.grant(true);
  }
}
