import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type BatchResultErrorEntry,
} from "@aws-sdk/client-sqs";
import type { SpanContext } from "@opentelemetry/api";
import type { ConsumerContext } from "./consumer";
import type { InFlight } from "./dispatch";
import type { LapseDetected, VisibilityReason } from "./metrics";
import { SQS_MAX_VISIBILITY_SECONDS } from "./settings";
import { backoffDelayMs, sleep } from "./sqs-client";

/**
 * The settle step: everything the consumer tells SQS about a message it holds, in two operations.
 * - **Delete** (DeleteMessageBatch): a handled message, coalesced into batches of 10.
 * - **Change visibility** (ChangeMessageVisibilityBatch), for a reason (VisibilityReason) that decides
 *   when the message is visible again:
 *
 *   | reason      | visible again                                                                     |
 *   |-------------|-----------------------------------------------------------------------------------|
 *   | `heartbeat` | not yet: extended by a visibility timeout while held (startHeartbeat)             |
 *   | `failed`    | after its retry delay (RETRY_BASE_SECONDS doubling per receive, up to             |
 *   | `refused`   | RETRY_MAX_SECONDS); with no delay (0) no call: its visibility timeout runs out     |
 *   | `group`     | at once: an earlier message of its FIFO group failed or was refused               |
 *   | `shutdown`  | at once, but not before the receives hung up on at shutdown have run out          |
 *
 * A message that is neither deleted nor changed keeps the visibility timeout of its receive, and SQS
 * delivers it again when that ends; each receive counts toward the queue's maxReceiveCount, so
 * redelivery ends in the DLQ (SQS Developer Guide, "Amazon SQS visibility timeout" and "Using
 * dead-letter queues"). Once a message is deleted or changed, the heartbeat leaves it alone, and the
 * delete or change waits for an extension already on its way: a late extension can neither undo a
 * retry delay or a shutdown change nor fail on a deleted message.
 */

/** One message whose visibility is to change, and why (which decides when it is visible again). */
export interface VisibilityChange {
  readonly message: InFlight;
  readonly reason: Exclude<VisibilityReason, "heartbeat">;
}

/** The warning logged for each `failed` or `refused` message: its fields (an `event` among them) and text. */
export interface RetryWarning {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** What shutdown's changes came to: messages given with reason `shutdown`, and how many SQS changed. */
export interface ShutdownAccount {
  readonly given: number;
  readonly changed: number;
}

/** SQS takes at most 10 entries per batch call. */
const BATCH_SIZE = 10;
/**
 * ChangeMessageVisibilityBatch calls in flight at once, per heartbeat pass or change. 10,000 held
 * messages are 1,000 calls: one at a time at 30 ms each a pass takes 30 s, as long as the default
 * visibility timeout; 16 at a time, about 2 s. It stays below the client's socket pool (receive loops +
 * 32), so receives and deletes are never starved by the heartbeat.
 */
export const PARALLEL_BATCHES = 16;
/**
 * How far past the handler deadline an extension reaches, at least: a handler that gives up right at its
 * limit must not see its message lapse, and one abandoned there (its messages then extended without a
 * cap, see Handling.invoke) keeps them hidden until the next pass, which half a visibility timeout covers.
 */
const DEADLINE_SLACK_MS = 5_000;
/** How long a lone delete waits for company before it is sent. */
const DELETE_FLUSH_DELAY_MS = 5;
/** Time kept at the very end of the shutdown budget for the last visibility change itself. */
const SHUTDOWN_RESERVE_MS = 500;
/** Slack after a hung-up receive's wait time, for SQS's clock and the network. */
const HUNG_UP_RECEIVE_MARGIN_MS = 250;

/**
 * The delay before a failed or refused message is received again: grows with its receive count,
 * bounded. Returns 0 when retry delays are disabled, meaning "leave it to the visibility timeout".
 */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number, maxSeconds: number): number {
  if (baseSeconds === 0) return 0;
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(Math.max(receiveCount - 1, 0), 30));
}

interface Change {
  readonly message: InFlight;
  readonly seconds: number;
  readonly reason: VisibilityReason;
}

/**
 * Shutdown's changes of visibility: made at once, but not before `hungUpReceivesEndAt()` (ms since
 * epoch) plus a margin, nor after `end` (the end of the shutdown budget). SQS keeps serving a long poll
 * after its client hangs up, and a message that turns visible before the poll's wait time ends is
 * handed to the dead connection and hidden for a visibility timeout.
 */
interface ShutdownWindow {
  readonly end: number;
  readonly hungUpReceivesEndAt: () => number;
  closed: boolean;
  readonly calls: Promise<void>[];
}

/** Deletes and visibility changes of held messages, and the visibility heartbeat. */
export class Settlement {
  private readonly deletes: Deletes;
  private heartbeatStopped = false;
  private readonly wake = new AbortController();
  /** Messages given with reason `shutdown` before the shutdown window opened. */
  private readonly shutdownQueue: InFlight[] = [];
  private window: ShutdownWindow | undefined;
  private shutdownGiven = 0;
  private shutdownChanged = 0;
  /** The queue's redrive maxReceiveCount, once known (Consumer.maxReceiveCount): see changeVisibility. */
  maxReceiveCount: number | undefined;
  /** The receive count of each message this process deleted lately, by message id. */
  private readonly recentDeletes = new RecentDeletes();

  constructor(private readonly ctx: ConsumerContext) {
    this.deletes = new Deletes(ctx);
  }

  /**
   * Deletes a handled message (batched with others), linking the settle span to its process span. An
   * extension on its way would fail on a deleted message: the delete waits for it.
   */
  async delete(entry: InFlight, processSpan: SpanContext | undefined): Promise<void> {
    const extending = this.stopExtending(entry);
    if (extending !== undefined) await extending;
    const lateMs = Date.now() - entry.visibleAt;
    // SQS may answer a delete whose receipt handle it has replaced with success and keep the message
    // (API reference, DeleteMessage): the lapse is seen here, or when the message comes back (deletedEarlier).
    if (lateMs > 0) lapsed(this.ctx, "late-settle", entry.messageId, { lateMs });
    this.recentDeletes.set(entry.messageId, entry.message.receiveCount);
    this.deletes.add(entry, processSpan);
  }

  /**
   * True when this process deleted the message lately, from a delivery with a lower receive count than
   * `receiveCount` (its ApproximateReceiveCount jumped): SQS delivered it again, so the delete did not
   * take; its visibility had ended before it, and it has been handled twice.
   */
  deletedEarlier(messageId: string, receiveCount: number): boolean {
    // A first receive cannot follow a delete: no lookup for the messages nearly all receives bring.
    if (receiveCount <= 1) return false;
    const deletedAt = this.recentDeletes.get(messageId);
    return deletedAt !== undefined && receiveCount > deletedAt;
  }

  /**
   * Changes the visibility of messages so SQS delivers them again, each when its reason says (see the
   * table above); up to 10 go in one ChangeMessageVisibilityBatch, whatever their reasons. `warning` is
   * logged for each `failed` or `refused` one, with its `messageId`, `receiveCount` and `retryInSeconds`;
   * on the receive that reaches the queue's maxReceiveCount, saying that SQS moves it to the DLQ instead
   * of delivering it again (SQS Developer Guide, "Using dead-letter queues").
   * Resolves when SQS has answered (a `shutdown` change: once it is queued or sent, see
   * closeShutdownWindow). Failures are logged; never rejects.
   */
  async changeVisibility(changes: readonly VisibilityChange[], warning?: RetryWarning): Promise<void> {
    const { settings, logger } = this.ctx;
    const now: Change[] = [];
    const atShutdown: InFlight[] = [];
    for (const { message, reason } of changes) {
      if (reason === "shutdown") {
        atShutdown.push(message);
        continue;
      }
      let seconds = 0;
      if (reason === "failed" || reason === "refused") {
        const { receiveCount } = message.message;
        seconds = retryDelaySeconds(receiveCount, settings.retryBaseSeconds, settings.retryMaxSeconds);
        if (warning !== undefined) {
          const max = this.maxReceiveCount;
          const last = max !== undefined && receiveCount >= max;
          logger.warn(
            {
              ...warning.fields,
              messageId: message.messageId,
              receiveCount,
              ...(last ? { maxReceiveCount: max, toDlq: true } : { retryInSeconds: seconds > 0 ? seconds : undefined }),
            },
            last ? lastReceive(warning.message, receiveCount) : warning.message,
          );
        }
        if (seconds === 0) continue;
      }
      now.push({ message, seconds, reason });
    }
    if (atShutdown.length > 0) this.changeAtShutdown(atShutdown);
    if (now.length > 0) await this.changeNow(now);
  }

  /**
   * Shutdown: from now on, `shutdown` changes are made (see ShutdownWindow), those given so far first.
   * `end` is the end of the shutdown budget and `hungUpReceivesEndAt()` when the last receive hung up on
   * would have ended on its own, both in ms since epoch.
   */
  openShutdownWindow(end: number, hungUpReceivesEndAt: () => number): void {
    this.window = { end, hungUpReceivesEndAt, closed: false, calls: [] };
    this.changeAtShutdown(this.shutdownQueue.splice(0), false);
  }

  /**
   * Shutdown: takes `shutdown` changes until `receivesEnded` settles (no receive can bring anything
   * more) or the budget's last SHUTDOWN_RESERVE_MS begins, whichever comes first, then waits for the
   * calls made. A message given after that stays hidden until its visibility timeout ends. Returns
   * shutdown's account.
   */
  async closeShutdownWindow(receivesEnded: Promise<unknown>): Promise<ShutdownAccount> {
    const window = this.window;
    if (window !== undefined) {
      const lastCall = new AbortController();
      await Promise.race([receivesEnded, sleep(window.end - SHUTDOWN_RESERVE_MS - Date.now(), lastCall.signal)]);
      lastCall.abort();
      window.closed = true;
      await Promise.all(window.calls);
    }
    return { given: this.shutdownGiven, changed: this.shutdownChanged };
  }

  /** Shutdown: sends the deletes still pending and waits for them, retries included, until `end` (ms since epoch). */
  drainDeletes(end: number): Promise<void> {
    return this.deletes.drain(end);
  }

  /**
   * Starts the heartbeat over the messages `held` returns at each pass: one pass at a time, a sixth of
   * the visibility timeout apart (back to back when a pass takes longer).
   */
  startHeartbeat(held: () => Iterable<InFlight>): void {
    const periodMs = (this.ctx.settings.visibilityTimeoutSeconds * 1000) / 6;
    void (async () => {
      let started = Date.now();
      while (!this.heartbeatStopped) {
        // Passes start a period apart, or back to back when one takes longer than that; never overlap.
        await sleep(started + periodMs - Date.now(), this.wake.signal);
        if (this.heartbeatStopped) break;
        started = Date.now();
        await this.extend(held());
      }
    })();
  }

  /** No extension is sent after this; calls already sent finish (deletes and changes wait for them). */
  stopHeartbeat(): void {
    this.heartbeatStopped = true;
    this.wake.abort();
  }

  /**
   * The heartbeat leaves the message alone from now on. Returns the extension of it still on its way,
   * if any: wait for it before deleting or changing the message.
   */
  stopExtending(message: InFlight): Promise<unknown> | undefined {
    message.settling = true;
    return message.extension;
  }

  private changeAtShutdown(messages: readonly InFlight[], given = true): void {
    if (given) this.shutdownGiven += messages.length;
    const window = this.window;
    if (window === undefined) {
      this.shutdownQueue.push(...messages);
      return;
    }
    if (window.closed || messages.length === 0) return;
    const safeAt = Math.min(window.hungUpReceivesEndAt() + HUNG_UP_RECEIVE_MARGIN_MS, window.end - SHUTDOWN_RESERVE_MS);
    window.calls.push(
      sleep(safeAt - Date.now())
        .then(() =>
          this.changeNow(
            messages.map((message) => ({ message, seconds: 0, reason: "shutdown" })),
            AbortSignal.timeout(Math.max(window.end - Date.now(), 0)),
          ),
        )
        .then((changed) => void (this.shutdownChanged += changed)),
    );
  }

  /** Sends the changes after any extension of them still on its way; returns how many SQS accepted. */
  private async changeNow(changes: readonly Change[], signal?: AbortSignal): Promise<number> {
    const pending = changes.map(({ message }) => this.stopExtending(message)).filter((p) => p !== undefined);
    if (pending.length > 0) await Promise.all(pending);
    const accepted = await this.send(changes, signal);
    const byReason = new Map<VisibilityReason, number>();
    for (const { reason } of accepted) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    for (const [reason, count] of byReason) this.ctx.metrics.visibilityChanges.inc({ reason }, count);
    return accepted.length;
  }

  /**
   * One heartbeat pass: extends every held message with half of its visibility timeout or less left,
   * most urgent first, up to its handler's hard limit (plus DEADLINE_SLACK_MS) and SQS's 12-hour cap. A
   * message that becomes due during a pass is among the most urgent of the next one, which starts at
   * once if this one ran long: nothing lapses while two passes back to back take less than half the
   * visibility timeout. When SQS (or the CPU) is slow, messages wait longer before their turn, each pass
   * extends them further, and the rate of extensions falls to what can be sent: the work does not grow
   * with the delay.
   */
  private async extend(held: Iterable<InFlight>): Promise<void> {
    const { settings, metrics, logger } = this.ctx;
    const started = Date.now();
    const timeoutMs = settings.visibilityTimeoutSeconds * 1000;
    const due: (Change & { visibleAt: number })[] = [];
    for (const message of held) {
      if (message.settling || message.visibleAt - started > timeoutMs / 2) continue;
      const wanted = Math.min(timeoutMs, message.deadline + Math.max(DEADLINE_SLACK_MS, timeoutMs / 2) - started);
      const cap = message.receivedAt + SQS_MAX_VISIBILITY_SECONDS * 1000 - started;
      const seconds = Math.floor(Math.min(wanted, cap) / 1000);
      if (seconds > 0) due.push({ message, seconds, reason: "heartbeat", visibleAt: message.visibleAt });
    }
    if (due.length === 0) return;
    due.sort((a, b) => a.visibleAt - b.visibleAt);
    let late = 0;
    let calls = 0;
    const extended = await this.send(
      due,
      undefined,
      () => calls++,
      (change, sentAt, answeredAt) => {
        // Answered after the visibility ended: SQS may have handed the message to another receiver meanwhile.
        if (answeredAt > change.message.visibleAt) late++;
        change.message.visibleAt = sentAt + change.seconds * 1000;
      },
    );
    if (extended.length > 0) metrics.visibilityChanges.inc({ reason: "heartbeat" }, extended.length);
    const tookMs = Date.now() - started;
    metrics.heartbeatPassDuration.observe(tookMs / 1000);
    if (late > 0) {
      metrics.visibilityLapses.inc({ detected: "late-extension" }, late);
      logger.warn(
        { event: "visibility-lapsed", detected: "late-extension", messages: late, passMs: tookMs },
        "visibility was extended only after it had ended: these messages may be delivered again while still being handled",
      );
    }
    // due: taken at the start of the pass; messages: extended (those settled meanwhile were skipped); batches: calls sent.
    logger.debug(
      { event: "heartbeat", due: due.length, messages: extended.length, batches: calls, tookMs, lapsed: late },
      "visibility heartbeat pass",
    );
  }

  /**
   * Sends the changes in batches of 10, PARALLEL_BATCHES calls at a time, in the order given; returns
   * the ones SQS accepted. A heartbeat batch is formed when its turn comes, without the messages
   * settled meanwhile, and none is sent once the heartbeat is stopped. `signal` ends the calls still
   * open (shutdown's budget).
   */
  private async send(
    changes: readonly Change[],
    signal?: AbortSignal,
    onSend?: () => void,
    onAccepted?: (change: Change, sentAt: number, answeredAt: number) => void,
  ): Promise<Change[]> {
    const accepted: Change[] = [];
    let next = 0;
    const takeBatch = (): Change[] => {
      const batch: Change[] = [];
      while (batch.length < BATCH_SIZE && next < changes.length) {
        const change = changes[next++]!;
        if (change.reason !== "heartbeat" || !change.message.settling) batch.push(change);
      }
      return batch;
    };
    const heartbeat = changes[0]?.reason === "heartbeat";
    const worker = async (): Promise<void> => {
      for (;;) {
        if ((heartbeat && this.heartbeatStopped) || signal?.aborted) return;
        const batch = takeBatch();
        if (batch.length === 0) return;
        const sentAt = Date.now();
        onSend?.();
        const call = this.sendBatch(batch, signal);
        if (heartbeat) for (const { message } of batch) message.extension = call;
        const ok = await call;
        const answeredAt = Date.now();
        for (const { message } of batch) if (message.extension === call) message.extension = undefined;
        for (const change of ok) {
          onAccepted?.(change, sentAt, answeredAt);
          accepted.push(change);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_BATCHES, Math.ceil(changes.length / BATCH_SIZE)) }, worker),
    );
    if (signal?.aborted && next < changes.length) {
      const reason = reasonsOf(changes.slice(next));
      this.ctx.logger.warn(
        { event: "visibility-failed", reason, unsent: changes.length - next, error: "out of time" },
        `${changes.length - next} visibility change(s) not sent: the time allowed ran out (${reason})`,
      );
    }
    return accepted;
  }

  /** One ChangeMessageVisibilityBatch; logs what failed and returns what SQS accepted. Never rejects. */
  private async sendBatch(batch: readonly Change[], signal: AbortSignal | undefined): Promise<Change[]> {
    const { sqs, settings, logger, metrics, classify } = this.ctx;
    try {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: settings.queueUrl,
          Entries: batch.map(({ message, seconds }, i) => ({
            Id: String(i),
            ReceiptHandle: message.receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
        signal ? { abortSignal: signal } : {},
      );
      const failedIds = new Set((result.Failed ?? []).map((f) => f.Id));
      for (const failure of result.Failed ?? []) {
        const entry = batch[Number(failure.Id)];
        if (entry !== undefined && isLapsedReceiptHandle(failure))
          lapsed(this.ctx, "receipt-handle", entry.message.messageId, { reason: entry.reason, code: failure.Code });
        logger.warn(
          {
            event: "visibility-failed",
            reason: entry?.reason,
            messageId: entry?.message.messageId,
            code: failure.Code,
            error: failure.Message,
          },
          `could not change a message's visibility (${entry?.reason})`,
        );
      }
      return batch.filter((_, i) => !failedIds.has(String(i)));
    } catch (error) {
      const classified = classify(error);
      const reason = reasonsOf(batch);
      metrics.recordError(classified.kind, "ChangeMessageVisibilityBatch");
      logger.warn(
        {
          event: "visibility-failed",
          reason,
          messages: batch.map((e) => e.message.messageId),
          kind: classified.kind,
          code: classified.code,
          error: classified.message,
          hint: classified.hint,
        },
        `could not change visibility of ${batch.length} message(s) (${reason})`,
      );
      return [];
    }
  }
}

/** A retry warning's text on the last receive: its "will be delivered again" clause becomes the DLQ. */
function lastReceive(text: string, receiveCount: number): string {
  const clause = `this was receive ${receiveCount}, the queue's maxReceiveCount: SQS moves it to the DLQ instead of delivering it again`;
  const cut = text.search(/;[^;]*will be delivered again/);
  return cut === -1 ? `${text}; ${clause}` : `${text.slice(0, cut)}; ${clause}`;
}

/**
 * How many deleted message ids `deletedEarlier` remembers, at least: a few minutes of a busy consumer.
 * It keeps two generations of this many, so at most twice that (a few MiB).
 */
export const RECENT_DELETES = 10_000;

/**
 * The receive counts of the messages deleted lately, by message id: the last RECENT_DELETES at least,
 * 2 x RECENT_DELETES at most. Two generations, the older dropped whole when the newer is full: O(1) per
 * delete, where evicting a Map's oldest key one by one walks over every slot deleted before it.
 */
export class RecentDeletes {
  private newer = new Map<string, number>();
  private older = new Map<string, number>();

  constructor(private readonly generation = RECENT_DELETES) {}

  set(messageId: string, receiveCount: number): void {
    if (this.newer.size >= this.generation) {
      this.older = this.newer;
      this.newer = new Map();
    }
    this.newer.set(messageId, receiveCount);
  }

  get(messageId: string): number | undefined {
    return this.newer.get(messageId) ?? this.older.get(messageId);
  }
}

/**
 * SQS's answers to a receipt handle whose message is no longer in flight for it: its visibility ended
 * (and SQS may have handed the message out again), so the handle no longer works. Sources: API
 * reference, ChangeMessageVisibility (MessageNotInflight, ReceiptHandleIsInvalid) and the
 * InvalidParameterValue SQS answers for a receipt handle "that has expired".
 */
const LAPSED_RECEIPT_CODES = new Set([
  "ReceiptHandleIsInvalid",
  "MessageNotInflight",
  "AWS.SimpleQueueService.MessageNotInflight",
]);

function isLapsedReceiptHandle(failure: BatchResultErrorEntry): boolean {
  return (
    LAPSED_RECEIPT_CODES.has(failure.Code ?? "") ||
    (failure.Code === "InvalidParameterValue" && /receipt handle has expired/i.test(failure.Message ?? ""))
  );
}

/**
 * A held message's visibility ended before the consumer was done with it: counted by how it was found,
 * and logged. SQS may deliver it again, here or to another consumer, while or after it is handled.
 */
export function lapsed(
  ctx: Pick<ConsumerContext, "metrics" | "logger">,
  detected: LapseDetected,
  messageId: string,
  fields: Readonly<Record<string, unknown>> = {},
): void {
  ctx.metrics.visibilityLapses.inc({ detected });
  ctx.logger.warn(
    { event: "visibility-lapsed", detected, messageId, ...fields },
    LAPSE_MESSAGES[detected] +
      ": it may be handled more than once. Usual causes: a handler that blocks the event loop (see event-loop-stalled), or a heartbeat that cannot reach SQS",
  );
}

const LAPSE_MESSAGES: Readonly<Record<LapseDetected, string>> = {
  "late-extension": "its visibility was extended only after it had ended",
  "late-settle":
    "its visibility had ended before its delete was sent, and SQS ignores a delete with a replaced receipt handle",
  "receipt-handle": "SQS refused its receipt handle: the message is no longer in flight for this receive",
  "received-again": "SQS delivered it again: its visibility had ended while this process held it or before its delete",
};

/** The distinct reasons of some changes, for a log line: "shutdown", or "failed,group". */
function reasonsOf(changes: readonly Change[]): string {
  return [...new Set(changes.map((c) => c.reason))].join(",");
}

interface PendingDelete {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** When the message turns visible again (ms since epoch): retrying past that is pointless. */
  readonly visibleAt: number;
  /** The message's process span, for the settle span's link. */
  readonly processSpan: SpanContext | undefined;
  attempts: number;
}

/**
 * Deletes of handled messages, coalesced into DeleteMessageBatch calls of up to 10. Entries that fail for
 * a transient reason (network, throttling, an SQS-side fault) are retried with backoff for as long as
 * the message stays invisible; entries that cannot be deleted are logged and counted, never dropped
 * silently (SQS will deliver those messages again).
 */
class Deletes {
  private pending: PendingDelete[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborts backoff sleeps when shutdown runs out of time. */
  private readonly abort = new AbortController();

  constructor(private readonly ctx: ConsumerContext) {}

  add(entry: InFlight, processSpan: SpanContext | undefined): void {
    const { messageId, receiptHandle, visibleAt } = entry;
    this.pending.push({ messageId, receiptHandle, visibleAt, processSpan, attempts: 0 });
    if (this.pending.length >= BATCH_SIZE) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), DELETE_FLUSH_DELAY_MS);
  }

  /** Sends everything pending and waits for all deletes, retries included, or until `deadline`. */
  async drain(deadline: number): Promise<void> {
    this.flush();
    const remaining = deadline - Date.now();
    const timeout = sleep(Math.max(remaining, 0), this.abort.signal);
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all(this.inFlight), timeout]);
    }
    this.abort.abort();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) this.track(this.send(this.pending.splice(0, BATCH_SIZE)));
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async send(batch: PendingDelete[]): Promise<void> {
    const { sqs, settings, metrics, tracing, classify } = this.ctx;
    for (const entry of batch) entry.attempts++;
    let failed: BatchResultErrorEntry[];
    const span = tracing.startSettle(
      batch.length,
      batch.map((e) => e.processSpan),
    );
    try {
      const result = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: settings.queueUrl,
          Entries: batch.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle })),
        }),
      );
      failed = result.Failed ?? [];
      tracing.settleDone(span, failed.length);
      metrics.deleted.inc(batch.length - failed.length);
    } catch (error) {
      const classified = classify(error);
      tracing.settleFailed(span, { kind: classified.kind, error });
      metrics.recordError(classified.kind, "DeleteMessageBatch");
      await this.retryOrReport(batch, classified.code, classified.message);
      return;
    }
    const byId = new Map(failed.map((f) => [f.Id, f]));
    const retryable: PendingDelete[] = [];
    batch.forEach((entry, i) => {
      const failure = byId.get(String(i));
      if (!failure) return;
      // SenderFault means the entry itself is wrong (e.g. an expired receipt handle): retrying cannot help.
      if (failure.SenderFault && isLapsedReceiptHandle(failure))
        lapsed(this.ctx, "receipt-handle", entry.messageId, { code: failure.Code });
      if (failure.SenderFault) this.report(entry, failure.Code ?? "SenderFault", failure.Message ?? "");
      else retryable.push(entry);
    });
    if (retryable.length > 0)
      await this.retryOrReport(retryable, "BatchEntryFailed", "SQS failed some entries of a DeleteMessageBatch");
  }

  private async retryOrReport(entries: PendingDelete[], code: string, message: string): Promise<void> {
    const delay = backoffDelayMs(Math.max(...entries.map((e) => e.attempts)), 100, 5_000);
    const retryAt = Date.now() + delay;
    const retry = entries.filter((e) => retryAt < e.visibleAt);
    for (const entry of entries)
      if (retryAt >= entry.visibleAt) this.report(entry, code, `${message} (visibility timeout reached)`);
    if (retry.length === 0) return;
    await sleep(delay, this.abort.signal);
    if (this.abort.signal.aborted) {
      for (const entry of retry) this.report(entry, code, `${message} (gave up at shutdown)`);
      return;
    }
    for (const entry of retry) this.pending.push(entry);
    this.flush();
  }

  private report(entry: PendingDelete, code: string, message: string): void {
    this.ctx.metrics.deleteFailures.inc();
    this.ctx.logger.warn(
      { event: "delete-failed", messageId: entry.messageId, code, error: message, attempts: entry.attempts },
      "could not delete a handled message; SQS will deliver it again",
    );
  }
}
