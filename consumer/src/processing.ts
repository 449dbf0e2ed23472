import { context as otelContext } from "@opentelemetry/api";
import type { Capacity } from "./capacity";
import type { MessageHandler } from "./handler";
import type { InFlight, InFlightMessages } from "./in-flight";
import type { Invocations } from "./invocations";
import type { Logger } from "./logger";
import type { MessageGroups } from "./message-groups";
import type { Metrics } from "./metrics";
import type { Settings } from "./settings";
import type { HandlerFailure, Settlement } from "./settlement";
import type { ConsumerTracing } from "./tracing";

export interface ProcessorOptions {
  readonly settings: Settings;
  readonly handler: MessageHandler;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracing: ConsumerTracing;
  readonly capacity: Capacity;
  readonly invocations: Invocations;
  readonly inFlight: InFlightMessages;
  readonly groups: MessageGroups<InFlight>;
  readonly settlement: Settlement;
}

/**
 * Processing of held messages, one handler run each: the handler called under its hard limit
 * (HANDLER_TIMEOUT_SECONDS, then its signal aborts and the consumer stops waiting), inside its process
 * span; then the message settled (deleted, or given back for redelivery) and, on a FIFO queue, the next
 * message of its group started.
 */
export class Processor {
  /** Handlers running or finishing up (a failure's retry delay is set after the handler returns). */
  private readonly handling = new Set<Promise<void>>();
  private idle: (() => void) | undefined;

  constructor(private readonly options: ProcessorOptions) {}

  /** Runs a held message's handler in a slot already reserved for it. */
  run(entry: InFlight): void {
    const handling = this.handle(entry).finally(() => this.handling.delete(handling));
    this.handling.add(handling);
  }

  /** Shutdown: `wake` is called when a handler finishes and no message is held any more. */
  whenIdle(wake: () => void): void {
    this.idle = wake;
  }

  /** Settles when every handler run started so far has finished, settlement included. Never rejects. */
  allSettled(): Promise<unknown> {
    return Promise.allSettled(this.handling);
  }

  private async handle(entry: InFlight): Promise<void> {
    const { settings, handler, logger, metrics, tracing, invocations, groups, inFlight, settlement } = this.options;
    const started = performance.now();
    entry.deadline = Date.now() + settings.handlerTimeoutSeconds * 1000;
    const timer = setTimeout(
      () => entry.controller.abort(new HandlerTimeoutError(settings.handlerTimeoutSeconds)),
      settings.handlerTimeoutSeconds * 1000,
    );
    let failure: HandlerFailure | undefined;
    const traceContext = tracing.startProcess(entry.message, entry.receiveContext);
    const { invocation, result } = invocations.start(entry.messageId, () =>
      otelContext.with(traceContext, () =>
        handler(entry.message, { signal: entry.controller.signal, logger, traceContext }),
      ),
    );
    try {
      await raceAbort(result, entry.controller.signal);
    } catch (error) {
      failure = {
        reason: error instanceof HandlerTimeoutError ? "timeout" : entry.released ? "shutdown" : "error",
        error,
      };
    } finally {
      clearTimeout(timer);
    }
    metrics.handlerDuration.observe((performance.now() - started) / 1000);
    tracing.endProcess(traceContext, failure && { kind: failure.reason, error: failure.error });
    if (entry.controller.signal.aborted) void invocations.giveUp(invocation);
    if (entry.released) {
      // Shutdown's budget ran out and the message was given back with the others: counted as a failure
      // (reason "shutdown"), not retried after a delay.
      if (failure !== undefined) metrics.failed.inc({ reason: failure.reason });
      this.finish(entry);
      return;
    }
    if (failure === undefined) {
      metrics.succeeded.inc();
      // A FIFO group stays locked in SQS until its last held message's delete lands; that delete still
      // waits up to the acknowledger's 5 ms for company: sending it alone cost 50% more delete calls and
      // was no faster when measured (docs/BENCHMARKS.md, "FIFO: when to send a group's last delete").
      const next = groups.next(entry);
      this.finish(entry, next);
      await settlement.delete(entry, tracing.processSpanContext(traceContext));
      return;
    }
    // Later messages of its FIFO group must not overtake it: they go back to SQS behind it.
    const behind = groups.abandon(entry);
    for (const waiting of behind) inFlight.unhold(waiting);
    this.finish(entry);
    await settlement.failed(entry, failure, behind);
  }

  /**
   * The consumer is done waiting for a handler. Its slot is given back when the handler settles
   * (Invocations), so the next message of its FIFO group, if one waits, takes a slot of its own like
   * any other: the concurrency limit holds while a timed-out handler still runs.
   */
  private finish(entry: InFlight, next?: InFlight): void {
    const { inFlight } = this.options;
    inFlight.unhold(entry);
    if (next !== undefined) void this.runWhenFree(next);
    if (inFlight.size === 0) this.idle?.();
  }

  /**
   * Starts a FIFO group's next message once a slot is free, ahead of the receive loops (a receive can
   * bring nothing for the group this message locks); at shutdown it goes back to SQS instead.
   */
  private async runWhenFree(next: InFlight): Promise<void> {
    if ((await this.options.capacity.reserve(1, "held")) === 1) {
      this.run(next);
      return;
    }
    this.options.inFlight.unhold(next);
    this.options.settlement.returnAtShutdown([next]);
  }
}

/**
 * Thrown into a handler's race when its hard limit (HANDLER_TIMEOUT_SECONDS) passes; also the reason
 * of the handler's abort signal. `code` is "E_HANDLER_TIMEOUT".
 */
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
