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
 * loop as its group's previous message settles and frees a slot (processing.ts), so receive loops are
 * served only from the next turn (setImmediate): the slot a group's message frees goes to the group's
 * next message, not to a long poll that cannot bring it. `reserve` answers 0 only once closed.
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
   */
  constructor(
    private readonly limit: number,
    private readonly fillWaitMs = 50,
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
      throw new RangeError(`released ${count} slot(s) with only ${this.used} taken: a slot was given back twice`);
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
   * `receivesNow` (a turn of its own), else from the next turn. The front waiter short of a full batch
   * keeps its place for at most `fillWaitMs` (a "held" one arriving meanwhile still goes ahead of it).
   */
  private grant(receivesNow: boolean): void {
    while (this.waiters.length > 0 && this.free > 0) {
      const head = this.waiters[0] as Waiter;
      if (head.reserver === "receive" && !receivesNow) {
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
