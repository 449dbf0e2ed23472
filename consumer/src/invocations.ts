import type { Capacity } from "./capacity";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";

/** One call of the handler, from its start until its promise settles, however late that is. */
export interface Invocation {
  readonly messageId: string;
  readonly startedAt: number;
  /** The handler's promise settled (resolved or rejected). */
  settled: boolean;
  /** It passed its hard limit (or shutdown gave its message back) without settling. */
  abandoned: boolean;
  /** Resolves when the handler's promise settles. Never rejects. */
  readonly done: Promise<void>;
}

/**
 * The handler invocations that have not settled, by message id: what makes HANDLER_CONCURRENCY and
 * "one message, one invocation at a time" hard limits. A handler that ignores its abort signal keeps
 * running after its timeout; its message is given back to SQS, but its slot stays taken until its
 * promise settles, and the message is not handled again in this process meanwhile.
 *
 * Liveness: once more than half of the slots are held by abandoned invocations, the process can no
 * longer do its job and only a restart frees them: `live` turns false and /livez answers 503.
 */
export class Invocations {
  private readonly running = new Map<string, Invocation>();
  private abandonedCount = 0;

  constructor(
    private readonly concurrency: number,
    private readonly capacity: Capacity,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** Most abandoned invocations a live process holds: half of HANDLER_CONCURRENCY, rounded down. */
  get abandonedLimit(): number {
    return Math.floor(this.concurrency / 2);
  }

  get abandoned(): number {
    return this.abandonedCount;
  }

  get live(): boolean {
    return this.abandonedCount <= this.abandonedLimit;
  }

  /** Why the process is not live, for /livez. */
  get reason(): string {
    return `${this.abandonedCount} handler(s) ignored their abort signal and never settled, holding more than half of HANDLER_CONCURRENCY (${this.concurrency} slots, limit ${this.abandonedLimit})`;
  }

  /** The invocation of this message that has not settled yet, if any. */
  get(messageId: string): Invocation | undefined {
    return this.running.get(messageId);
  }

  /**
   * Calls the handler. The slot the receive reserved for this message is given back when the handler's
   * promise settles, not before. Returns the handler's promise (a synchronous throw becomes a rejection).
   */
  start(messageId: string, call: () => Promise<void>): { invocation: Invocation; result: Promise<void> } {
    const result = Promise.resolve().then(call);
    const invocation: Invocation = {
      messageId,
      startedAt: Date.now(),
      settled: false,
      abandoned: false,
      done: result.then(
        () => this.end(invocation),
        () => this.end(invocation),
      ),
    };
    this.running.set(messageId, invocation);
    return { invocation, result };
  }

  /**
   * Called when the consumer stopped waiting for an invocation (timeout, shutdown). A handler that
   * honours its signal settles within a turn of the event loop; one that has not by then is abandoned:
   * counted, logged, and still holding its slot.
   */
  async giveUp(invocation: Invocation): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (invocation.settled) return;
    invocation.abandoned = true;
    this.abandonedCount++;
    this.metrics.handlersAbandoned.set(this.abandonedCount);
    this.logger.warn(
      {
        event: "handler-abandoned",
        messageId: invocation.messageId,
        abandoned: this.abandonedCount,
        limit: this.abandonedLimit,
      },
      "the handler ignored its abort signal: its slot stays taken until it settles, and its message is not handled again here meanwhile",
    );
  }

  private end(invocation: Invocation): void {
    invocation.settled = true;
    if (this.running.get(invocation.messageId) === invocation) this.running.delete(invocation.messageId);
    this.capacity.release(1);
    if (!invocation.abandoned) return;
    this.abandonedCount--;
    this.metrics.handlersAbandoned.set(this.abandonedCount);
    this.logger.info(
      {
        event: "abandoned-handler-settled",
        messageId: invocation.messageId,
        afterMs: Date.now() - invocation.startedAt,
      },
      "an abandoned handler settled: its slot is free again",
    );
  }
}
