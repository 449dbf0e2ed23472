import { createHash, hash } from "node:crypto";
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { Context } from "@opentelemetry/api";
import type { ConsumerContext } from "./consumer";
import { Batcher } from "./batch";
import type { BatchOutcome, Capacity, Handling, Outcome, RunAbort } from "./handle";
import { toReceivedMessage, type ReceivedMessage } from "./handler";
import { messageTextBytes } from "./memory";
import { lapsed, type Settlement, type VisibilityChange } from "./settle";

/**
 * The dispatch step: what becomes of each message a receive brought, in the order SQS gave them. It is
 * held and started (handle.ts), waits behind its FIFO group's running message, or has its visibility
 * changed unhandled (settle.ts); when its handler's run ends, dispatch settles the outcome (delete, or change
 * visibility for it and for its FIFO group) and starts the group's next message.
 */

/**
 * What the consumer holds for one in-flight message (received, not yet deleted or visible again: SQS
 * API reference, ChangeMessageVisibility), from its receive until its handler's run is settled.
 */
export interface InFlight {
  readonly messageId: string;
  /** The latest receipt handle: a second delivery of a held message replaces it. */
  receiptHandle: string;
  /** When SQS handed it out (ms since epoch); its total invisibility is capped at 12 h from here. */
  receivedAt: number;
  /** When its handler's hard limit passes (ms since epoch); open (infinite) until its handler starts. */
  deadline: number;
  /** When its current visibility timeout ends (ms since epoch); the heartbeat moves it. */
  visibleAt: number;
  readonly message: ReceivedMessage;
  readonly groupId: string | undefined;
  /** The abort of the handler run that has it, while one runs: its hard limit, or shutdown, aborts it. */
  runAbort: RunAbort | undefined;
  /** Deleted or having its visibility changed: the heartbeat leaves it alone (settle.ts). */
  settling: boolean;
  /** The heartbeat's extension of it still on its way, if any: a delete or change waits for it (settle.ts). */
  extension: Promise<unknown> | undefined;
  /** The receive span's context: the process span is its child. */
  readonly receiveContext: Context;
  /** Set when shutdown cut its handler off and changed its visibility: its outcome no longer matters. */
  cutOff: boolean;
  /** What its text takes in the heap, bytes (see memory.ts `messageTextBytes`). */
  readonly textBytes: number;
  /** What the memory budget charges for it while held (0 until held). */
  charge: number;
}

/**
 * The entry for one message of a receive, not yet held. `receivedAt` is in ms since epoch; the message
 * turns visible again `visibilityTimeoutSeconds` after it unless the heartbeat extends it.
 */
export function inFlightEntry(
  raw: Message,
  receivedAt: number,
  receiveContext: Context,
  visibilityTimeoutSeconds: number,
): InFlight {
  const message = toReceivedMessage(raw);
  return {
    messageId: message.messageId,
    receiptHandle: raw.ReceiptHandle ?? "",
    receivedAt,
    deadline: Number.POSITIVE_INFINITY,
    visibleAt: receivedAt + visibilityTimeoutSeconds * 1000,
    message,
    groupId: message.groupId,
    runAbort: undefined,
    settling: false,
    extension: undefined,
    receiveContext,
    cutOff: false,
    textBytes: messageTextBytes(raw),
    charge: 0,
  };
}

/**
 * Dispatch of received messages. It holds them from receive to settlement: running, or waiting behind
 * their FIFO group's running message (the visibility heartbeat iterates `held`; the in-flight gauge
 * follows its size).
 */
export class Dispatcher {
  private readonly held = new Set<InFlight>();
  /** The same entries by message id: dispatch holds at most one entry per message. */
  private readonly heldById = new Map<string, InFlight>();
  private readonly groups: MessageGroups<InFlight>;
  /** Runs started and not yet settled (a failure's visibility change comes after its handler returns). */
  private readonly running = new Set<Promise<void>>();
  private idle: (() => void) | undefined;
  /** With a batch handler: gathers the messages that may start into batches (BATCH_SIZE, BATCH_WINDOW_SECONDS). */
  private readonly batcher: Batcher<InFlight> | undefined;

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly slots: Capacity,
    private readonly handling: Handling,
    private readonly settle: Settlement,
  ) {
    const { batchSize, batchWindowSeconds } = ctx.settings;
    this.batcher = handling.batches
      ? new Batcher(batchSize, batchWindowSeconds * 1000, (batch) => this.startBatch(batch))
      : undefined;
    // A batch takes a FIFO group's messages as one run, in order; a message handler takes them one at a time.
    this.groups = new MessageGroups(ctx.fifo, this.batcher === undefined ? 1 : batchSize);
  }

  /** The messages held now. */
  get inFlight(): ReadonlySet<InFlight> {
    return this.held;
  }

  /**
   * Starts what may start of one receive's messages (one per FIFO group), holds the rest, and gives
   * back the unused slots of the `slots` the receive reserved. A message the consumer already holds
   * keeps its place and takes the new receipt handle. A message that fails its checksum, or whose
   * earlier invocation has not settled though it is no longer held, is refused; on a FIFO queue the
   * rest of its group in this receive becomes visible again behind it, so the group's order holds on redelivery.
   * `receivedAt` is in ms since epoch; `receiveContext` is the receive span's context.
   */
  dispatch(raw: readonly Message[], receivedAt: number, receiveContext: Context, slots: number): void {
    const { settings, stopping } = this.ctx;
    const entries = raw.map((message) =>
      inFlightEntry(message, receivedAt, receiveContext, settings.visibilityTimeoutSeconds),
    );
    if (stopping.aborted) {
      // Received as shutdown began: not started, there is no time for them.
      void this.settle.changeVisibility(entries.map((message) => ({ message, reason: "shutdown" })));
      this.slots.release(slots);
      return;
    }
    const accepted: InFlight[] = [];
    const skippedGroups = new Set<string>();
    const behind: VisibilityChange[] = [];
    raw.forEach((message, i) => {
      const entry = entries[i] as InFlight;
      if (entry.groupId !== undefined && skippedGroups.has(entry.groupId)) {
        behind.push({ message: entry, reason: "group" });
        return;
      }
      const verdict = this.verdict(message, entry, accepted);
      if (verdict === "refused" && this.groups.ordered && entry.groupId !== undefined) skippedGroups.add(entry.groupId);
      if (verdict === "new") accepted.push(entry);
    });
    if (behind.length > 0) void this.settle.changeVisibility(behind);
    for (const entry of accepted) this.hold(entry);
    const startNow = this.groups.admit(accepted);
    if (this.batcher !== undefined) {
      // A batch's messages keep their slots from the receive on, waiting behind their group included:
      // HANDLER_CONCURRENCY bounds the messages held, and a group's next run needs no new slots.
      this.slots.release(slots - accepted.length);
      this.batcher.add(this.runs(startNow));
      return;
    }
    this.slots.release(slots - startNow.length);
    for (const entry of startNow) this.start(entry);
  }

  /**
   * Messages that may start, as the runs a batch keeps whole: on a FIFO queue a group's messages
   * together, in order (two batches of one group must not run at once); otherwise one message a run.
   */
  private runs(startNow: readonly InFlight[]): InFlight[][] {
    if (!this.groups.ordered) return startNow.map((entry) => [entry]);
    const byGroup = new Map<string, InFlight[]>();
    for (const entry of startNow) {
      const key = entry.groupId ?? "";
      const run = byGroup.get(key);
      if (run === undefined) byGroup.set(key, [entry]);
      else run.push(entry);
    }
    return [...byGroup.values()];
  }

  /**
   * Shutdown: takes out the messages waiting behind their group's running message, and those gathered
   * into a batch that has not run. They are not started; the caller changes their visibility. Running
   * messages keep their groups until they end.
   */
  takeWaiting(): InFlight[] {
    const waiting = [...(this.batcher?.take() ?? []), ...this.groups.takeAllWaiting()];
    for (const entry of waiting) this.drop(entry);
    if (this.batcher !== undefined) this.slots.release(waiting.length);
    return waiting;
  }

  /** Shutdown: `wake` is called when a run is settled and no message is held any more. */
  whenIdle(wake: () => void): void {
    this.idle = wake;
  }

  /** Settles when every run started so far is settled. Never rejects. */
  allSettled(): Promise<unknown> {
    return Promise.allSettled(this.running);
  }

  /**
   * What becomes of a received message: `new`, to be held and handled; `held`, a second delivery of a
   * message the consumer already holds (running, waiting behind its FIFO group, or earlier in this same
   * receive; see redelivered); `refused`, not handled here and back to SQS after its retry delay: a
   * damaged checksum, or an earlier invocation that has not settled though the consumer no longer holds
   * the message (its handler ignored its signal and shutdown cut it off). `accepted` are this receive's messages so far.
   */
  private verdict(raw: Message, entry: InFlight, accepted: readonly InFlight[]): "new" | "held" | "refused" {
    const { metrics } = this.ctx;
    const running = this.handling.invocations.get(entry.messageId);
    const held = accepted.find((e) => e.messageId === entry.messageId) ?? this.heldById.get(entry.messageId);
    // The copy held passed its checksum: a damaged second delivery only brings a newer receipt handle.
    if (held !== undefined) {
      this.redelivered(held, running === undefined ? "waiting" : "running", entry);
      return "held";
    }
    const corrupt = checkMessage(raw);
    if (corrupt !== undefined) {
      metrics.checksumMismatches.inc({ part: corrupt });
      void this.settle.changeVisibility([{ message: entry, reason: "refused" }], {
        fields: { event: "checksum-mismatch", part: corrupt },
        message: `the message's ${corrupt} does not match its MD5: not handled; it will be delivered again (then moved to the DLQ)`,
      });
      return "refused";
    }
    if (running === undefined) {
      if (this.settle.deletedEarlier(entry.messageId, entry.message.receiveCount))
        lapsed(this.ctx, "received-again", entry.messageId, { receiveCount: entry.message.receiveCount });
      return "new";
    }
    metrics.duplicateDeliveries.inc({ state: running.abandoned ? "abandoned" : "running" });
    void this.settle.changeVisibility([{ message: entry, reason: "refused" }], {
      fields: { event: "duplicate-delivery" },
      message:
        "received again while its abandoned handler still runs: not handled a second time here; it will be delivered again",
    });
    return "refused";
  }

  /**
   * A message received again while the consumer holds it (SQS delivers at least once; a message whose
   * visibility lapsed comes back, on a FIFO queue with the rest of its group) is never held, nor
   * handled, twice. The new receipt handle replaces the old one, so the heartbeat, the delete and a
   * visibility change act on the latest delivery: SQS only honours the most recent receipt handle
   * reliably (SQS Developer Guide, "Amazon SQS visibility timeout" and the ReceiptHandle of
   * ReceiveMessage). `state` says whether its handler was running or had not started.
   */
  private redelivered(held: InFlight, state: "running" | "waiting", again: InFlight): void {
    const { logger, metrics } = this.ctx;
    metrics.duplicateDeliveries.inc({ state });
    // A second delivery while held means its visibility ended (or SQS delivered it twice, which it may).
    lapsed(this.ctx, "received-again", held.messageId, { state, receiveCount: again.message.receiveCount });
    held.receiptHandle = again.receiptHandle || held.receiptHandle;
    held.receivedAt = again.receivedAt;
    held.visibleAt = again.visibleAt;
    logger.info(
      { event: "duplicate-delivery", messageId: held.messageId, state },
      "received again while held: the new receipt handle replaces the old one",
    );
  }

  private hold(entry: InFlight): void {
    this.held.add(entry);
    this.heldById.set(entry.messageId, entry);
    entry.charge = this.ctx.memory.hold(entry.textBytes);
    this.ctx.metrics.inFlight.inc();
  }

  /**
   * The consumer no longer holds the message (settled, or its visibility about to change). Its memory
   * charge is released, or, while a handler that ignored its abort signal still runs with it, once that
   * handler settles.
   */
  private drop(entry: InFlight): void {
    if (!this.held.delete(entry)) return;
    if (this.heldById.get(entry.messageId) === entry) this.heldById.delete(entry.messageId);
    this.ctx.metrics.inFlight.dec();
    const { memory } = this.ctx;
    const running = this.handling.invocations.get(entry.messageId);
    if (running === undefined || running.settled) memory.release(entry.charge);
    else void running.done.then(() => memory.release(entry.charge));
  }

  /** Runs a held message's handler in a slot already reserved for it, then settles the outcome. */
  private start(entry: InFlight): void {
    const run = this.handling
      .run(entry)
      .then((outcome) => this.settleRun(entry, outcome))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /**
   * A run ended. Cut off at shutdown: shutdown has changed its visibility. Succeeded: the group's next
   * message may start, and the message is deleted. Failed: the messages of its FIFO group that waited
   * behind it must not overtake it: they become visible again at once, and it after its retry delay, so SQS
   * redelivers the group from it on.
   *
   * The slot is freed when the handler settles (Invocations), so the group's next message takes a
   * slot of its own like any other: the concurrency limit holds while a timed-out handler still runs.
   */
  private async settleRun(entry: InFlight, { failure, processSpan }: Outcome): Promise<void> {
    if (entry.cutOff) return this.done(entry);
    if (failure === undefined) {
      // A FIFO group stays locked in SQS until its last held message's delete lands; that delete still
      // waits up to 5 ms for company: sending it alone cost 50% more delete calls and was no faster when
      // measured (docs/BENCHMARKS.md, "FIFO: when to send a group's last delete").
      const next = this.groups.next(entry);
      this.done(entry);
      if (next !== undefined) void this.startWhenFree(next);
      await this.settle.delete(entry, processSpan);
      return;
    }
    const behind = this.groups.stopAfter(entry);
    for (const waiting of behind) this.drop(waiting);
    this.done(entry);
    await this.settle.changeVisibility(
      [{ message: entry, reason: "failed" }, ...behind.map((message) => ({ message, reason: "group" as const }))],
      {
        fields: { event: "handler-failed", reason: failure.reason, err: failure.error },
        message:
          failure.reason === "timeout"
            ? "handler timed out; the message will be delivered again"
            : "handler failed; the message will be delivered again",
      },
    );
  }

  private done(entry: InFlight): void {
    this.drop(entry);
    if (this.held.size === 0) this.idle?.();
  }

  /**
   * Starts a FIFO group's next message once a slot is free, ahead of the receive loops (a receive can
   * bring nothing for the group this message locks); at shutdown its visibility is changed instead.
   */
  private async startWhenFree(next: InFlight): Promise<void> {
    if ((await this.slots.reserve(1, "held")) === 1) {
      this.start(next);
      return;
    }
    this.drop(next);
    await this.settle.changeVisibility([{ message: next, reason: "shutdown" }]);
  }
  /** Runs a batch of held messages (their slots are theirs since the receive), then settles each message's verdict. */
  private startBatch(batch: InFlight[]): void {
    const run = this.handling
      .runBatch(batch)
      .then((outcome) => this.settleBatch(batch, outcome))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /**
   * A batch ended. Cut off at shutdown: shutdown has changed its visibility. Otherwise each message as
   * its verdict says: deleted, delivered again after its retry delay (`failed`), or at once (`behind` a
   * failure of its FIFO group). A FIFO group that succeeded in the batch starts its next run (at
   * shutdown their visibility is changed instead); one that failed has the visibility of what waited
   * behind it changed at once, as for a message.
   */
  private async settleBatch(
    batch: readonly InFlight[],
    { verdicts, failure, overruled, processSpan }: BatchOutcome,
  ): Promise<void> {
    if (batch.some((entry) => entry.cutOff)) {
      for (const entry of batch) this.done(entry);
      return;
    }
    const failed: VisibilityChange[] = [];
    const behind: VisibilityChange[] = [];
    const groupFailed = new Map<string, boolean>();
    batch.forEach((entry, i) => {
      const verdict = verdicts[i];
      const key = entry.groupId ?? "";
      groupFailed.set(key, (groupFailed.get(key) ?? false) || verdict !== "succeeded");
      if (verdict === "failed") failed.push({ message: entry, reason: "failed" });
      if (verdict === "behind") behind.push({ message: entry, reason: "group" });
    });
    const next: InFlight[][] = [];
    if (this.groups.ordered) {
      const firsts = new Map(batch.map((entry) => [entry.groupId ?? "", entry]));
      for (const [key, first] of firsts) {
        if (groupFailed.get(key)) {
          for (const waiting of this.groups.stopAfter(first)) {
            this.drop(waiting);
            this.slots.release(1);
            behind.push({ message: waiting, reason: "group" });
          }
        } else {
          const run = this.groups.nextRun(first);
          if (run.length > 0) next.push(run);
        }
      }
    }
    for (const entry of batch) this.done(entry);
    const deletes = batch
      .filter((_, i) => verdicts[i] === "succeeded")
      .map((entry) => this.settle.delete(entry, processSpan));
    if (next.length > 0) this.startNext(next);
    const warning =
      failure === undefined
        ? {
            fields: { event: "handler-failed", reason: "error", batchSize: batch.length },
            message: "the batch handler listed this message in batchItemFailures; it will be delivered again",
          }
        : {
            fields: { event: "handler-failed", reason: failure.reason, err: failure.error, batchSize: batch.length },
            message:
              failure.reason === "timeout"
                ? "batch handler timed out; every message of the batch will be delivered again"
                : "batch handler failed; every message of the batch will be delivered again",
          };
    if (overruled.length > 0) {
      this.ctx.logger.warn(
        { event: "group-stopped", messageIds: overruled },
        "the batch handler did not list these messages as failed, but they come after a failed message of their FIFO group: they are delivered again with it, to keep the group's order (list every message after a group's first failure, as Lambda requires)",
      );
    }
    await Promise.all([
      ...deletes,
      this.settle.changeVisibility(failed, warning),
      ...(behind.length > 0 ? [this.settle.changeVisibility(behind)] : []),
    ]);
  }

  /** The next runs of FIFO groups whose batch succeeded: gathered into batches, or back to SQS at shutdown. */
  private startNext(runs: readonly InFlight[][]): void {
    if (!this.ctx.stopping.aborted) {
      this.batcher?.add(runs);
      return;
    }
    const entries = runs.flat();
    for (const entry of entries) this.drop(entry);
    this.slots.release(entries.length);
    void this.settle.changeVisibility(entries.map((message) => ({ message, reason: "shutdown" })));
  }
}

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
 * out (`stopAfter`) and become visible again at once, and SQS redelivers the group from the failed message on, in
 * order, once it is visible again (the failed message keeps the group locked while it is invisible).
 * A group is active from its first admitted message until it has nothing left.
 */
export class MessageGroups<T extends { readonly groupId: string | undefined }> {
  /** Messages waiting behind each active group's running message, in received order. */
  private readonly waitingByGroup = new Map<string, T[]>();
  private waitingCount = 0;

  /**
   * @param ordered true for FIFO queues; false makes every method a pass-through.
   * @param runMax how many of a group's messages run together: 1 for a message handler, BATCH_SIZE for a
   *   batch handler (a batch holds a run of its group, in order).
   */
  constructor(
    readonly ordered: boolean,
    private readonly runMax = 1,
  ) {}

  /** Messages held but not started: they wait behind their group's running message. */
  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * Takes the messages of one receive, in received order, and returns those to start now: on FIFO
   * queues the first `runMax` of each group that is not already active; the rest wait (see `next`).
   */
  admit(messages: readonly T[]): T[] {
    if (!this.ordered) return [...messages];
    const startNow: T[] = [];
    /** Groups this receive activates, and how many of their messages start now. */
    const started = new Map<string, number>();
    for (const message of messages) {
      const key = message.groupId ?? "";
      const count = started.get(key);
      if (count !== undefined && count < this.runMax) {
        started.set(key, count + 1);
        startNow.push(message);
        continue;
      }
      const queue = this.waitingByGroup.get(key);
      if (queue) {
        queue.push(message);
        this.waitingCount++;
      } else {
        this.waitingByGroup.set(key, []);
        started.set(key, 1);
        startNow.push(message);
      }
    }
    return startNow;
  }

  /** The running message of a group succeeded: returns the next one of its group to start, or undefined when the group is done. */
  next(finished: T): T | undefined {
    if (!this.ordered) return undefined;
    const key = finished.groupId ?? "";
    const next = this.waitingByGroup.get(key)?.shift();
    if (next === undefined) this.waitingByGroup.delete(key);
    else this.waitingCount--;
    return next;
  }

  /**
   * A group's running batch succeeded: returns its next run, up to `runMax` of its waiting messages in
   * order, or none when the group is done.
   */
  nextRun(finished: T): T[] {
    if (!this.ordered) return [];
    const key = finished.groupId ?? "";
    const run = this.waitingByGroup.get(key)?.splice(0, this.runMax) ?? [];
    if (run.length === 0) this.waitingByGroup.delete(key);
    else this.waitingCount -= run.length;
    return run;
  }

  /** The running message of a group failed: ends the group here and returns the messages that waited behind it, in order. */
  stopAfter(failed: T): T[] {
    if (!this.ordered) return [];
    const key = failed.groupId ?? "";
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

/** The part of a received message that did not match the digest SQS sent with it. */
export type ChecksumPart = "body" | "attributes";

/** Transport type bytes of the attribute digest: String and Number values are text, Binary are bytes. */
const TRANSPORT_TEXT = 1;
const TRANSPORT_BINARY = 2;

/** MD5 of the UTF-8 bytes of a body, hex: what SQS sends as MD5OfBody. */
export function md5OfBody(body: string): string {
  // The one-shot form: half the cost of a Hash object per message.
  return hash("md5", body, "hex");
}

/**
 * MD5 of message attributes, hex, as SQS computes MD5OfMessageAttributes: attributes sorted by name;
 * for each, the name, the data type and the value, each as a 4-byte big-endian length and its bytes
 * (UTF-8 for text), with a transport byte before the value (1 for String and Number types, 2 for
 * Binary ones, custom types such as `Number.float` or `Binary.gif` included).
 * Source: "Calculating the MD5 message digest for message attributes",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-attributes.html#sqs-attributes-md5-message-digest-calculation
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash("md5");
  const field = (bytes: Uint8Array): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType = "", StringValue, BinaryValue } = attributes[name]!;
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(DataType, "utf8"));
    const binary = DataType.startsWith("Binary");
    hash.update(Uint8Array.of(binary ? TRANSPORT_BINARY : TRANSPORT_TEXT));
    field(binary ? (BinaryValue ?? new Uint8Array()) : Buffer.from(StringValue ?? "", "utf8"));
  }
  return hash.digest("hex");
}

/**
 * Checks one received message against its digests: the body always, the message attributes whenever
 * the message has any or SQS sent their digest. Returns the first part that does not match, or
 * undefined when the message is intact. A message that fails was damaged between SQS and here (or
 * by a proxy on the way): its content cannot be trusted, so it must not be handled.
 */
export function checkMessage(message: Message): ChecksumPart | undefined {
  if (message.MD5OfBody === undefined || md5OfBody(message.Body ?? "") !== message.MD5OfBody.toLowerCase())
    return "body";
  const attributes = message.MessageAttributes ?? {};
  const hasAttributes = Object.keys(attributes).length > 0;
  if (!hasAttributes && message.MD5OfMessageAttributes === undefined) return undefined;
  if (
    message.MD5OfMessageAttributes === undefined ||
    md5OfMessageAttributes(attributes) !== message.MD5OfMessageAttributes.toLowerCase()
  )
    return "attributes";
  return undefined;
}
