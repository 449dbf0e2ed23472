/**
 * Order per message group on FIFO queues.
 *
 * SQS hands out several messages of one group in one receive, in the group's order, and serves that
 * group nothing more until they are all deleted or visible again (SQS Developer Guide, "FIFO queue
 * delivery logic"). Order therefore only needs to be kept among the messages one process holds: the
 * first held message of a group runs, the rest wait behind it in received order, and different groups
 * run in parallel. On a standard queue `MessageGroupId` means fair queues, not order ("Using the
 * message group ID"): nothing is serialized there.
 *
 * When a group's running message fails, the messages waiting behind it must not run: they are taken
 * out (`abandon`) and given back to SQS, which redelivers the group from the failed message on, in
 * order, once it is visible again (the failed message keeps the group locked while it is invisible).
 */
export interface GroupedMessage {
  /** The message's MessageGroupId; undefined on standard queues without fair-queue groups. */
  readonly groupId: string | undefined;
}

/** Where messages of active groups wait. A group is active from its first admitted message until it has nothing left. */
export class MessageGroups<T extends GroupedMessage> {
  /** Messages waiting behind each active group's running message, in received order. */
  private readonly waitingByGroup = new Map<string, T[]>();
  private waitingCount = 0;

  /** @param ordered true for FIFO queues; false makes every method a pass-through. */
  constructor(readonly ordered: boolean) {}

  /** Messages held but not started: they wait behind their group's running message. */
  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * Takes the messages of one receive, in received order, and returns those to start now: on FIFO
   * queues the first of each group that is not already active; the rest wait (see `next`).
   */
  admit(messages: readonly T[]): T[] {
    if (!this.ordered) return [...messages];
    const startNow: T[] = [];
    for (const message of messages) {
      const queue = this.waitingByGroup.get(keyOf(message));
      if (queue) {
        queue.push(message);
        this.waitingCount++;
      } else {
        this.waitingByGroup.set(keyOf(message), []);
        startNow.push(message);
      }
    }
    return startNow;
  }

  /** The running message of a group succeeded: returns the next one of its group to start, or undefined when the group is done. */
  next(finished: T): T | undefined {
    if (!this.ordered) return undefined;
    const key = keyOf(finished);
    const next = this.waitingByGroup.get(key)?.shift();
    if (next === undefined) this.waitingByGroup.delete(key);
    else this.waitingCount--;
    return next;
  }

  /** The running message of a group failed: ends the group here and returns the messages that waited behind it, in order. */
  abandon(failed: T): T[] {
    if (!this.ordered) return [];
    const key = keyOf(failed);
    const behind = this.waitingByGroup.get(key) ?? [];
    this.waitingByGroup.delete(key);
    this.waitingCount -= behind.length;
    return behind;
  }

  /** Shutdown: takes out every waiting message; running messages keep their groups until they end (then `next` returns undefined). */
  takeAllWaiting(): T[] {
    const all = [...this.waitingByGroup.values()].flatMap((queue) => queue.splice(0));
    this.waitingCount = 0;
    return all;
  }
}

function keyOf(message: GroupedMessage): string {
  return message.groupId ?? "";
}

/** SQS requires a FIFO queue's name to end in `.fifo`, and no other queue name may contain a dot. */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return new URL(queueUrl).pathname.endsWith(".fifo");
}
