import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AwsErrorKind } from "./errors";

/**
 * Why a handler did not succeed, as the `reason` label of sqs_consumer_messages_failed_total: it threw
 * or rejected (`error`), passed HANDLER_TIMEOUT_SECONDS (`timeout`), or was still running when the
 * shutdown budget ran out and its message's visibility was changed (`shutdown`).
 */
export type FailureReason = "error" | "timeout" | "shutdown";

/**
 * Why the consumer changes a message's visibility (ChangeMessageVisibility), as the `reason` label of
 * sqs_consumer_visibility_changes_total and the `reason` log field: `heartbeat`, to keep a held message
 * hidden; `failed`, its handler failed; `refused`, not handled here (a damaged message, or one whose
 * earlier invocation has not settled); `group`, an earlier message of its FIFO group failed or was
 * refused; `shutdown`, not started or unfinished when the consumer stops. settle.ts decides when each
 * becomes visible.
 */
export type VisibilityReason = "heartbeat" | "failed" | "refused" | "group" | "shutdown";

/** How a visibility lapse was found, as the `detected` label of sqs_consumer_visibility_lapses_total. */
export type LapseDetected = "late-extension" | "late-settle" | "receipt-handle" | "received-again";

/**
 * The consumer's Prometheus metrics, served on /metrics. Names follow Prometheus conventions:
 * counters end in _total, durations are histograms in seconds.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly received = new Counter({
    name: "sqs_consumer_messages_received_total",
    help: "Messages received from SQS.",
    registers: [this.registry],
  });
  readonly succeeded = new Counter({
    name: "sqs_consumer_messages_succeeded_total",
    help: "Messages whose handler succeeded.",
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: "sqs_consumer_messages_failed_total",
    help: "Messages whose handler failed, by reason.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly deleted = new Counter({
    name: "sqs_consumer_messages_deleted_total",
    help: "Messages deleted from the queue after success.",
    registers: [this.registry],
  });
  readonly deleteFailures = new Counter({
    name: "sqs_consumer_delete_failures_total",
    help: "Successful messages that could not be deleted (they will be delivered again).",
    registers: [this.registry],
  });
  readonly visibilityChanges = new Counter({
    name: "sqs_consumer_visibility_changes_total",
    help:
      "Messages whose visibility SQS changed at the consumer's request, by reason: heartbeat (kept hidden " +
      "while held); failed and refused (visible after their retry delay); group and shutdown (visible at once).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: "sqs_consumer_messages_in_flight",
    help:
      "Messages this consumer holds (received, invisible to others, not yet settled): those being handled " +
      "and, on a FIFO queue, those waiting behind an earlier message of their group.",
    registers: [this.registry],
  });
  readonly emptyReceives = new Counter({
    name: "sqs_consumer_empty_receives_total",
    help: "ReceiveMessage calls that returned no message.",
    registers: [this.registry],
  });
  readonly receiveDuration = new Histogram({
    name: "sqs_consumer_receive_duration_seconds",
    help: "ReceiveMessage latency, long-poll wait included.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [this.registry],
  });
  readonly handlerDuration = new Histogram({
    name: "sqs_consumer_handler_duration_seconds",
    help: "Handler duration per message.",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "sqs_consumer_errors_total",
    help: "Failed AWS calls, by kind and operation.",
    labelNames: ["kind", "operation"] as const,
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: "sqs_consumer_ready",
    help: "1 while the consumer is receiving successfully.",
    registers: [this.registry],
  });
  readonly handlersAbandoned = new Gauge({
    name: "sqs_consumer_handlers_abandoned",
    help: "Handlers past their timeout that ignored the abort signal and have not settled; each holds a slot.",
    registers: [this.registry],
  });
  readonly duplicateDeliveries = new Counter({
    name: "sqs_consumer_duplicate_deliveries_total",
    help: "Messages received again while an invocation for them had not settled: not handled a second time.",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly checksumMismatches = new Counter({
    name: "sqs_consumer_checksum_mismatches_total",
    help: "Received messages whose body or attributes did not match their MD5: not handled, left for redelivery.",
    labelNames: ["part"] as const,
    registers: [this.registry],
  });
  readonly heartbeatPassDuration = new Histogram({
    name: "sqs_consumer_heartbeat_pass_seconds",
    help: "Duration of one visibility heartbeat pass that extended at least one message.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly visibilityLapses = new Counter({
    name: "sqs_consumer_visibility_lapses_total",
    help:
      "Held messages whose visibility ended before the consumer was done with them (they may be delivered " +
      "again), by how it was found: late-extension (an extension answered after the end), late-settle (deleted " +
      "after it), receipt-handle (SQS refused the receipt handle as no longer in flight), " +
      "received-again (delivered again while held, or after this process deleted it).",
    labelNames: ["detected"] as const,
    registers: [this.registry],
  });
  readonly clockSkew = new Counter({
    name: "sqs_consumer_clock_skew_total",
    help:
      "Times the local clock was found far from AWS's, by evidence: expired-on-arrival (credentials that arrived " +
      "with less than 4.5 minutes left, shorter than any source issues) or date-header (an AWS response's Date header more than " +
      "5 minutes off; compared at most once a minute) (clock-skew.ts).",
    labelNames: ["evidence"] as const,
    registers: [this.registry],
  });
  readonly eventLoopStalls = new Counter({
    name: "sqs_consumer_event_loop_stalls_total",
    help: "Times the event loop was blocked for more than a third of the visibility timeout (event-loop.ts).",
    registers: [this.registry],
  });

  /** Read at each scrape (see watchMemory). */
  private memory: (() => { budget: number; reserved: number; held: number }) | undefined;
  readonly memoryBudget = new Gauge({
    name: "sqs_consumer_memory_budget_bytes",
    help: "The memory budget for messages, from the container's memory limit: what receives and held messages may be charged.",
    registers: [this.registry],
    collect: () => {
      const memory = this.memory?.();
      if (memory) this.memoryBudget.set(memory.budget);
    },
  });
  readonly memoryCharged = new Gauge({
    name: "sqs_consumer_memory_charged_bytes",
    help:
      "What the memory budget is charged now, by use: receiving (room reserved by receives in progress, for " +
      "messages of the largest size the queue accepts) and held (held messages, by their size).",
    labelNames: ["use"] as const,
    registers: [this.registry],
    collect: () => {
      const memory = this.memory?.();
      if (!memory) return;
      this.memoryCharged.set({ use: "receiving" }, memory.reserved);
      this.memoryCharged.set({ use: "held" }, memory.held);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The memory gauges read `read` at each scrape. */
  watchMemory(read: () => { budget: number; reserved: number; held: number }): void {
    this.memory = read;
  }

  recordError(kind: AwsErrorKind, operation: string): void {
    this.errors.inc({ kind, operation });
  }
}
