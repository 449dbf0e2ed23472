import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "./backoff";
import { classifyAwsError, type HintContext } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { SQS_MAX_VISIBILITY_SECONDS } from "./settings";

/** SQS takes at most 10 entries per ChangeMessageVisibilityBatch. */
const BATCH_SIZE = 10;
/**
 * ChangeMessageVisibilityBatch calls in flight at once, per pass or release. 10,000 held messages are
 * 1,000 calls: one at a time at 30 ms each a pass takes 30 s, as long as the default visibility
 * timeout; 16 at a time, about 2 s. It stays below the client's socket pool (receive loops + 32), so
 * receives and deletes are never starved by the heartbeat.
 */
export const PARALLEL_BATCHES = 16;
/** A little past the handler deadline, so a handler that gives up right at its limit is released, not redelivered. */
const DEADLINE_SLACK_MS = 5_000;

/** A message the consumer holds, as far as its visibility is concerned. */
export interface HeldMessage {
  readonly messageId: string;
  /** The latest receipt handle: a second delivery of a message being handled replaces it. */
  receiptHandle: string;
  /** When SQS handed it out (ms since epoch); its total invisibility is capped at 12 h from here. */
  receivedAt: number;
  /** When its handler's hard limit passes (ms since epoch). */
  readonly deadline: number;
  /** When its current visibility timeout ends (ms since epoch); the heartbeat moves it. */
  visibleAt: number;
}

export interface VisibilityOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly visibilityTimeoutSeconds: number;
  readonly hints: HintContext;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

interface Change {
  readonly message: HeldMessage;
  readonly seconds: number;
}

/**
 * Everything that changes a held message's visibility: the heartbeat that keeps long-running
 * messages invisible, and early release (retry delays, unfinished messages at shutdown).
 *
 * The heartbeat runs one pass at a time, a sixth of the visibility timeout apart (back to back when a
 * pass takes longer): it extends every held message with half of its visibility timeout or less left
 * (see extend), most urgent first, in batches of 10 sent `PARALLEL_BATCHES` at a time. A message is settled once it is
 * acknowledged or released (`settle`): no extension goes out for it after that, and its acknowledgement
 * or release waits for an extension already on its way, so a late extension can neither undo a retry
 * delay or a shutdown release nor fail on a message already deleted.
 */
export class Visibility {
  private stopped = false;
  private readonly wake = new AbortController();
  private readonly settled = new WeakSet<HeldMessage>();
  /** Extensions sent and not answered yet, by message. */
  private readonly extending = new Map<HeldMessage, Promise<unknown>>();

  constructor(private readonly options: VisibilityOptions) {}

  /** Starts the heartbeat over the messages `held` returns at each pass. */
  startHeartbeat(held: () => Iterable<HeldMessage>): void {
    const periodMs = (this.options.visibilityTimeoutSeconds * 1000) / 6;
    void (async () => {
      let started = Date.now();
      while (!this.stopped) {
        // Passes start a period apart, or back to back when one takes longer than that; never overlap.
        await sleep(started + periodMs - Date.now(), this.wake.signal);
        if (this.stopped) break;
        started = Date.now();
        await this.extend(held());
      }
    })();
  }

  /** No extension is sent after this; calls already sent finish (release and `settle` wait for them). */
  stopHeartbeat(): void {
    this.stopped = true;
    this.wake.abort();
  }

  /**
   * Marks a message as acknowledged or released: the heartbeat leaves it alone from now on. Returns the
   * extension of it still on its way, if any: wait for it before deleting or releasing the message.
   */
  settle(message: HeldMessage): Promise<unknown> | undefined {
    this.settled.add(message);
    return this.extending.get(message);
  }

  /**
   * Makes each message visible again after the given delay (0 = at once), in parallel batches, after
   * any extension of them still on its way. `signal` ends the calls still open (shutdown's budget).
   * Returns how many SQS accepted (failures are logged). Never rejects.
   */
  async release(
    entries: readonly { message: HeldMessage; delaySeconds: number }[],
    signal?: AbortSignal,
  ): Promise<number> {
    const pending = entries.map(({ message }) => this.settle(message)).filter((p) => p !== undefined);
    if (pending.length > 0) await Promise.all(pending);
    const accepted = await this.change(
      entries.map(({ message, delaySeconds }) => ({ message, seconds: delaySeconds })),
      "release",
      signal,
    );
    this.options.metrics.released.inc(accepted.length);
    return accepted.length;
  }

  /**
   * One heartbeat pass: extends every message with half of its visibility timeout or less left, most
   * urgent first. A message that becomes due during a pass is among the most urgent of the next one,
   * which starts at once if this one ran long: nothing lapses while two passes back to back take less
   * than half the visibility timeout. When SQS (or the CPU) is slow, messages wait longer before
   * their turn, each pass extends them further, and the rate of extensions falls to what can be sent:
   * the work does not grow with the delay.
   */
  private async extend(held: Iterable<HeldMessage>): Promise<void> {
    const started = Date.now();
    const timeoutMs = this.options.visibilityTimeoutSeconds * 1000;
    const due: (Change & { visibleAt: number })[] = [];
    for (const message of held) {
      if (this.settled.has(message) || message.visibleAt - started > timeoutMs / 2) continue;
      const wanted = Math.min(timeoutMs, message.deadline + DEADLINE_SLACK_MS - started);
      const cap = message.receivedAt + SQS_MAX_VISIBILITY_SECONDS * 1000 - started;
      const seconds = Math.floor(Math.min(wanted, cap) / 1000);
      if (seconds > 0) due.push({ message, seconds, visibleAt: message.visibleAt });
    }
    if (due.length === 0) return;
    due.sort((a, b) => a.visibleAt - b.visibleAt);
    let lapsed = 0;
    let calls = 0;
    const extended = await this.change(
      due,
      "heartbeat",
      undefined,
      () => calls++,
      (change, sentAt, answeredAt) => {
        // Answered after the visibility ended: SQS may have handed the message to another receiver meanwhile.
        if (answeredAt > change.message.visibleAt) lapsed++;
        change.message.visibleAt = sentAt + change.seconds * 1000;
      },
    );
    const tookMs = Date.now() - started;
    this.options.metrics.heartbeatPassDuration.observe(tookMs / 1000);
    if (lapsed > 0) {
      this.options.metrics.visibilityLapses.inc(lapsed);
      this.options.logger.warn(
        { event: "visibility-lapsed", messages: lapsed, passMs: tookMs },
        "visibility was extended only after it had ended: these messages may be delivered again while still being handled",
      );
    }
    // due: taken at the start of the pass; messages: extended (those settled meanwhile were skipped); batches: calls sent.
    this.options.logger.debug(
      { event: "heartbeat", due: due.length, messages: extended.length, batches: calls, tookMs, lapsed },
      "visibility heartbeat pass",
    );
  }

  /**
   * Sends the changes in batches of 10, `PARALLEL_BATCHES` calls at a time, in the order given; returns
   * the ones SQS accepted. A heartbeat batch is formed when its turn comes, without the messages
   * settled meanwhile, and none is sent once the heartbeat is stopped.
   */
  private async change(
    changes: readonly Change[],
    purpose: "heartbeat" | "release",
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
        if (purpose === "release" || !this.settled.has(change.message)) batch.push(change);
      }
      return batch;
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        if ((purpose === "heartbeat" && this.stopped) || signal?.aborted) return;
        const batch = takeBatch();
        if (batch.length === 0) return;
        const sentAt = Date.now();
        onSend?.();
        const call = this.send(batch, purpose, signal);
        if (purpose === "heartbeat") for (const { message } of batch) this.extending.set(message, call);
        const ok = await call;
        const answeredAt = Date.now();
        for (const change of batch)
          if (this.extending.get(change.message) === call) this.extending.delete(change.message);
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
      this.options.logger.warn(
        { event: "visibility-failed", purpose, unsent: changes.length - next, error: "out of time" },
        `${changes.length - next} visibility change(s) not sent: the time allowed ran out (${purpose})`,
      );
    }
    return accepted;
  }

  /** One ChangeMessageVisibilityBatch; logs what failed and returns what SQS accepted. Never rejects. */
  private async send(batch: readonly Change[], purpose: string, signal: AbortSignal | undefined): Promise<Change[]> {
    try {
      const result = await this.options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
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
        this.options.logger.warn(
          {
            event: "visibility-failed",
            purpose,
            messageId: entry?.message.messageId,
            code: failure.Code,
            error: failure.Message,
          },
          `could not change a message's visibility (${purpose})`,
        );
      }
      return batch.filter((_, i) => !failedIds.has(String(i)));
    } catch (error) {
      const classified = classifyAwsError(error, this.options.hints);
      this.options.metrics.recordError(classified.kind, "ChangeMessageVisibilityBatch");
      this.options.logger.warn(
        {
          event: "visibility-failed",
          purpose,
          messages: batch.map((e) => e.message.messageId),
          kind: classified.kind,
          code: classified.code,
          error: classified.message,
          hint: classified.hint,
        },
        `could not change visibility of ${batch.length} message(s) (${purpose})`,
      );
      return [];
    }
  }
}
