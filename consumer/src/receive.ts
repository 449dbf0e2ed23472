import { randomUUID } from "node:crypto";
import {
  ReceiveMessageCommand,
  type Message,
  type ReceiveMessageCommandInput,
  type ReceiveMessageCommandOutput,
} from "@aws-sdk/client-sqs";
import type { AbsoluteLocation, DeserializeHandlerOptions, DeserializeMiddleware } from "@smithy/types";
import type { Context } from "@opentelemetry/api";
import type { ConsumerContext } from "./consumer";
import type { AwsErrorKind } from "./errors";
import type { Capacity } from "./handle";
import type { OpenReceive, Readiness } from "./health";
import { backoffDelayMs, sleep } from "./sqs-client";

/**
 * The receive step: RECEIVE_LOOPS long-poll loops, each asking SQS for as many messages as there are
 * free handler slots and room in the memory budget, with a ReceiveRequestAttemptId on FIFO queues,
 * backing off after failures, and handing what came to dispatch (`onReceived`).
 */

/**
 * Backoff after a failed receive: from 200 ms, doubling, up to 20 s, with full jitter (`backoffDelayMs`).
 * The start-up checks retry with it too (app.ts).
 */
export const RECEIVE_BACKOFF = { baseMs: 200, capMs: 20_000 } as const;

/** A receive request in progress; its controller hangs up on it. */
interface AbortableReceive extends OpenReceive {
  /** Re-stamped as each HTTP attempt goes out (see attemptStamp). */
  endsAt: number;
  readonly controller: AbortController;
}

/**
 * Stamps each HTTP attempt of a receive as it goes out: the SDK retries a failed attempt (a 5xx, a
 * reset connection) with a new request, which is a new long poll of the full wait time on SQS's side,
 * starting after the failed one and the retry backoff. Credentials are resolved and the request signed
 * before this step, so the stamp is when the attempt leaves. Sources: the SDK's middleware stack runs
 * its steps initialize, serialize, build, finalizeRequest, deserialize in that order, and its retry
 * middleware sits at finalizeRequest (priority high, `retryMiddlewareOptions` in @smithy/core's retry
 * submodule), so the deserialize step runs once per attempt, next to the HTTP handler; the SQS
 * Developer Guide, "Amazon SQS short and long polling".
 */
function attemptStamp(
  receive: AbortableReceive,
  waitSeconds: number,
): DeserializeMiddleware<ReceiveMessageCommandInput, ReceiveMessageCommandOutput> {
  return (next) => (args) => {
    receive.endsAt = Date.now() + waitSeconds * 1000;
    return next(args);
  };
}

/** Innermost in the deserialize step: after the retry, signing and deserializer middleware are entered. */
const ATTEMPT_STAMP: DeserializeHandlerOptions & AbsoluteLocation = {
  step: "deserialize",
  priority: "low",
  name: "receiveAttemptStamp",
};

/**
 * What every receive asks SQS to return with each message: the system attributes the handler sees
 * (ReceivedMessage); AWSTraceHeader, the producer's X-Ray trace context, for the process span's link;
 * SenderId, ApproximateFirstReceiveTimestamp and DeadLetterQueueSourceArn, which complete what a Lambda
 * SQS record carries (batch.ts); and every message attribute, so their digest can be checked (dispatch.ts).
 */
export const RECEIVE_ATTRIBUTES = {
  MessageSystemAttributeNames: [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
  ],
  MessageAttributeNames: ["All"],
} as const satisfies Pick<ReceiveMessageCommandInput, "MessageSystemAttributeNames" | "MessageAttributeNames">;

/**
 * What one receive brought: its messages in SQS's order, when they arrived (ms since epoch), the
 * receive span's context, and the handler slots reserved for them (at least as many as messages).
 */
export type OnReceived = (
  messages: readonly Message[],
  receivedAt: number,
  receiveContext: Context,
  slots: number,
) => void;

/**
 * The receive loops (RECEIVE_LOOPS of them, default 2): each reserves room in the memory budget for up
 * to MAX_MESSAGES messages of the largest size the queue accepts (memory.ts), then as many free handler slots, and asks
 * SQS for that many messages with a long poll of WAIT_TIME_SECONDS (SQS
 * Developer Guide, "Amazon SQS short and long polling"), and hands what came to `onReceived`. A failed
 * receive marks the consumer not ready and is retried after a backoff; the loops end only when
 * `ctx.stopping` aborts (shutdown). A loop that ends any other way (a fault) is logged, `live` turns false
 * and readiness fails: a consumer that no longer receives must not look healthy.
 */
export class ReceiveLoops {
  private loops: Promise<void>[] = [];
  private readonly openReceives = new Set<AbortableReceive>();
  private hungUpReceivesEnd = 0;
  private endedEarly: string | undefined;

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly slots: Capacity,
    private readonly readiness: Readiness,
    private readonly onReceived: OnReceived,
  ) {}

  /** The receives in progress, for readiness (a receive open past its wait time is overdue). */
  get open(): Iterable<OpenReceive> {
    return this.openReceives;
  }

  /**
   * When the last receive hung up on (`hangUp`) would have ended on its own (ms since epoch); 0 when
   * none was. SQS may still hand messages to such a receive until then.
   */
  get hungUpReceivesEndAt(): number {
    return this.hungUpReceivesEnd;
  }

  /** False once a loop ended while the consumer runs: only a restart brings it back. */
  get live(): boolean {
    return this.endedEarly === undefined;
  }

  /** Why the consumer is not live, for /livez. */
  get reason(): string {
    return `a receive loop ended while the consumer runs: ${this.endedEarly ?? "(none did)"}`;
  }

  /** Starts the loops. */
  start(): void {
    for (let i = 0; i < this.ctx.settings.receiveLoops; i++) this.loops.push(this.supervised());
  }

  /** Settles when every loop has ended (after `ctx.stopping` aborted). Never rejects. */
  ended(): Promise<unknown> {
    return Promise.all(this.loops);
  }

  /** Hangs up on the receives still open, noting when SQS would have ended them (see hungUpReceivesEndAt). */
  hangUp(): void {
    for (const receive of this.openReceives) {
      this.hungUpReceivesEnd = Math.max(this.hungUpReceivesEnd, receive.endsAt);
      receive.controller.abort();
    }
  }

  /** One loop; ending before shutdown (a throw or a return) is recorded, never silent. Never rejects. */
  private async supervised(): Promise<void> {
    let fault: unknown;
    try {
      await this.receiveLoop();
    } catch (error) {
      fault = error;
    }
    if (this.ctx.stopping.aborted && fault === undefined) return;
    const message =
      fault instanceof Error
        ? fault.message
        : fault === undefined
          ? "it returned"
          : `it threw ${JSON.stringify(fault)}`;
    this.endedEarly ??= message;
    this.readiness.broken(this.reason);
    this.ctx.logger.error(
      { event: "receive-loop-ended", err: fault, error: message },
      "a receive loop ended while the consumer runs; it no longer receives: /livez and /readyz fail",
    );
  }

  private async receiveLoop(): Promise<void> {
    const { settings, sqs, metrics, tracing, fifo, classify, memory, stopping: signal } = this.ctx;
    const { slots: capacity, readiness } = this;
    let failures = 0;
    const attempts = new ReceiveAttempts(fifo);
    while (!signal.aborted) {
      // Room in the memory budget first, then slots: a loop waiting for memory holds no slot a held
      // FIFO message may need, and one waiting for slots asks SQS for no more than its room.
      const room = await memory.reserveReceive(settings.maxMessages, signal);
      if (room === 0) break;
      const slots = await capacity.reserve(room);
      memory.releaseReceive(room - slots);
      if (slots === 0) {
        // Capacity answers 0 only once closed, which shutdown does together with aborting `stopping`.
        if (!capacity.closed) throw new Error("Capacity answered 0 slots while open");
        break;
      }
      if (signal.aborted) {
        capacity.release(slots);
        memory.releaseReceive(slots);
        break;
      }
      let messages: Message[];
      const started = performance.now();
      const wait = readiness.ready ? settings.waitTimeSeconds : 0;
      // Until its first attempt goes out the call is reckoned from now, so a credential fetch that
      // hangs counts toward the overdue check too.
      const receive: AbortableReceive = { endsAt: Date.now() + wait * 1000, controller: new AbortController() };
      this.openReceives.add(receive);
      const attempt = attempts.begin(slots);
      const span = tracing.startReceive(slots);
      try {
        const command = new ReceiveMessageCommand({
          QueueUrl: settings.queueUrl,
          MaxNumberOfMessages: attempt.maxMessages,
          ...(attempt.id === undefined ? {} : { ReceiveRequestAttemptId: attempt.id }),
          // Until a receive has succeeded (start-up, or after failures) poll without waiting, so
          // readiness reflects a recovery at once instead of after a long poll of up to 20 s.
          WaitTimeSeconds: wait,
          VisibilityTimeout: settings.visibilityTimeoutSeconds,
          ...RECEIVE_ATTRIBUTES,
        });
        command.middlewareStack.add(attemptStamp(receive, wait), ATTEMPT_STAMP);
        const result = await sqs.send(command, { abortSignal: receive.controller.signal });
        messages = result.Messages ?? [];
      } catch (error) {
        this.openReceives.delete(receive);
        capacity.release(slots);
        memory.releaseReceive(slots);
        if (signal.aborted) {
          tracing.receiveFailed(span, { kind: "shutdown", error });
          break;
        }
        const classified = classify(error);
        attempts.failed(classified.kind);
        tracing.receiveFailed(span, { kind: classified.kind, error });
        readiness.failed(classified, "ReceiveMessage");
        await sleep(backoffDelayMs(failures++, RECEIVE_BACKOFF.baseMs, RECEIVE_BACKOFF.capMs), signal);
        continue;
      }
      this.openReceives.delete(receive);
      attempts.answered();
      const receiveContext = tracing.receiveSucceeded(span, messages.length);
      failures = 0;
      metrics.receiveDuration.observe((performance.now() - started) / 1000);
      readiness.succeeded();
      if (messages.length === 0) {
        capacity.release(slots);
        memory.releaseReceive(slots);
        metrics.emptyReceives.inc();
        continue;
      }
      metrics.received.inc(messages.length);
      const receivedAt = Date.now();
      try {
        this.onReceived(messages, receivedAt, receiveContext, slots);
      } finally {
        // Dispatch charged what it holds; the receive's own room is free again.
        memory.releaseReceive(slots);
      }
    }
  }
}

/**
 * ReceiveRequestAttemptId for FIFO queues, one instance per receive loop. SQS hides what it hands to a receive and locks the
 * messages' groups; when the answer is lost on the way, a retry with the same attempt id within
 * 5 minutes gets the same messages and receipt handles back, while a retry without one finds those
 * groups locked until the visibility timeout ends (API reference of ReceiveMessage; SQS Developer
 * Guide, "Using the receive request attempt ID").
 *
 * One id per logical receive, set on the command, so the SDK's own retries of that command reuse it.
 * When the SDK gives up too, the consumer's next receive reuses the id if no answer came back
 * (network errors, SQS-side faults) and asks for the same number of messages; after throttling SQS
 * rejects a reused id, so a new one is drawn (awslabs/amazon-sqs-java-messaging-lib#213).
 */
export class ReceiveAttempts {
  private pending: { readonly id: string; readonly maxMessages: number; readonly startedAt: number } | undefined;

  /** @param fifo attempt ids only apply to FIFO queues; on standard queues `begin` returns none. */
  constructor(private readonly fifo: boolean) {}

  /** The attempt id and message count for a receive that may ask for up to `slots` messages. */
  begin(slots: number, now = Date.now()): { readonly id: string | undefined; readonly maxMessages: number } {
    if (!this.fifo) return { id: undefined, maxMessages: slots };
    const retry = this.pending;
    if (retry !== undefined && now - retry.startedAt < ATTEMPT_ID_REUSE_MS && slots >= retry.maxMessages) {
      return { id: retry.id, maxMessages: retry.maxMessages };
    }
    this.pending = { id: randomUUID(), maxMessages: slots, startedAt: now };
    return { id: this.pending.id, maxMessages: slots };
  }

  /** The receive answered: its id is spent. */
  answered(): void {
    this.pending = undefined;
  }

  /** The receive failed with an error of `kind`: keep the id for the next receive only if SQS may have served it unseen. */
  failed(kind: AwsErrorKind): void {
    if (kind !== "network" && kind !== "server") this.pending = undefined;
  }
}

/** SQS honours an attempt id for 5 minutes; a margin keeps a slow retry from reaching SQS after that. */
export const ATTEMPT_ID_REUSE_MS = 4 * 60_000;
