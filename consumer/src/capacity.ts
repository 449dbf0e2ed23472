/**
 * Handler slots shared by every receive loop. A loop reserves slots before it asks SQS for messages,
 * so the consumer never holds more messages than it can handle at once: messages waiting in memory
 * would only burn their visibility timeout.
 */
export class Capacity {
  private used = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly limit: number) {}

  /** Slots that are neither handling a message nor reserved by a pending receive. */
  get free(): number {
    return this.limit - this.used;
  }

  /**
   * Waits until at least one slot is free, then reserves up to `max` of them.
   * Returns 0 once closed (shutdown): the caller must not receive any more.
   */
  async reserve(max: number): Promise<number> {
    while (!this.closed && this.free <= 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
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
}
