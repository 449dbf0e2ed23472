/**
 * Handler slots shared by every receive loop. A loop reserves slots before it asks SQS for messages,
 * so the consumer never holds more messages than it can handle at once: messages waiting in memory
 * would only burn their visibility timeout. A slot is taken from the receive until the handler's
 * promise settles, past its timeout if it ignores its abort signal (see Invocations): the limit counts
 * every handler invocation still running.
 */
export class Capacity {
  private used = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  /**
   * @param limit handler slots in all
   * @param fillWaitMs how long a loop that finds only a few slots free waits for a full batch (see reserve)
   */
  constructor(
    private readonly limit: number,
    private readonly fillWaitMs = 50,
  ) {}

  /** Slots that are neither handling a message nor reserved by a pending receive. */
  get free(): number {
    return this.limit - this.used;
  }

  /**
   * Waits until at least one slot is free, then reserves up to `max` of them. When every slot is busy,
   * handlers finish one at a time: rather than send a receive per freed slot, it waits up to
   * `fillWaitMs` for `max` slots (or all of them, if fewer), so a saturated consumer still receives
   * full batches. Returns 0 once closed (shutdown): the caller must not receive any more.
   */
  async reserve(max: number): Promise<number> {
    while (!this.closed && this.free <= 0) await this.nextRelease();
    const batch = Math.min(max, this.limit);
    if (!this.closed && this.free < batch) {
      const deadline = Date.now() + this.fillWaitMs;
      while (!this.closed && this.free < batch && Date.now() < deadline) await this.nextRelease(deadline - Date.now());
    }
    if (this.closed) return 0;
    const granted = Math.min(max, this.free);
    this.used += granted;
    return granted;
  }

  /** Returns slots: unused reservations, or finished messages. */
  release(count: number): void {
    if (count <= 0) return;
    this.used -= count;
    // Every waiting loop re-checks; there are only as many as there are receive loops.
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Wakes every waiting loop with 0 slots; used when shutting down. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves at the next release or close, or after `timeoutMs` if given. */
  private nextRelease(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
