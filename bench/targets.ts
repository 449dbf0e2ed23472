// The benchmark's targets for this consumer (docs/BENCHMARKS.md), checked against the medians of the same run.
import type { LargeMessageRun } from "./large-message-run";
import type { FifoRun } from "./fifo/run";
import type { DrainSummary, IdleSummary } from "./summary";

export interface TargetCheck {
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly comparison: "<=" | ">=" | "<";
  readonly limit: number;
  /** undefined when the run did not measure what the target needs. */
  readonly met: boolean | undefined;
}

function check(
  id: string,
  description: string,
  value: number,
  comparison: TargetCheck["comparison"],
  limit: number,
): TargetCheck {
  const met = !Number.isFinite(value)
    ? undefined
    : comparison === "<="
      ? value <= limit
      : comparison === ">="
        ? value >= limit
        : value < limit;
  return { id, description, value, comparison, limit, met };
}

export function checkTargets(drains: DrainSummary, idle: IdleSummary): TargetCheck[] {
  const a = drains.A ?? {};
  const b = drains.B ?? {};
  const p = drains.P ?? {};
  const t = drains.T ?? {};
  const rate = (s: typeof a, id: keyof typeof a): number => s[id]?.messagesPerSecond.median ?? NaN;
  const cpu = (s: typeof a, id: keyof typeof a): number => s[id]?.cpuMsPer1000Messages.median ?? NaN;
  return [
    check("A-vs-raw-loop", "A: throughput / raw SDK loop's", rate(a, "consumer") / rate(a, "raw-loop"), ">=", 1.2),
    check(
      "A-vs-sqs-consumer",
      "A: throughput / sqs-consumer per message's",
      rate(a, "consumer") / rate(a, "sqs-consumer"),
      ">=",
      3,
    ),
    check("A-requests", "A: SQS requests per message", a.consumer?.requestsPerMessage.median ?? NaN, "<=", 0.21),
    check(
      "A-cpu",
      "A: CPU per message / raw SDK loop's",
      (a.consumer?.cpuMsPer1000Messages.median ?? NaN) / (a["raw-loop"]?.cpuMsPer1000Messages.median ?? NaN),
      "<=",
      1.2,
    ),
    check(
      "B-vs-sqs-consumer",
      "B: throughput / sqs-consumer per message's",
      rate(b, "consumer") / rate(b, "sqs-consumer"),
      ">=",
      8,
    ),
    // The hot path's floor: the raw SDK loop doing the same checks and logging per message.
    check("P-vs-raw-loop", "P: throughput / raw SDK loop's", rate(p, "consumer") / rate(p, "raw-loop"), ">=", 1.2),
    check("P-cpu", "P: CPU per message / raw SDK loop's", cpu(p, "consumer") / cpu(p, "raw-loop"), "<=", 1.15),
    check(
      "C-idle",
      "C: idle requests per minute per receive loop",
      idle.consumer?.requestsPerMinutePerLoop.median ?? NaN,
      "<=",
      3.5,
    ),
    check(
      "A-128mib",
      "A: throughput at 128 MiB / unconstrained",
      rate(a, "consumer-128mib") / rate(a, "consumer"),
      ">=",
      0.9,
    ),
    check(
      "B-128mib",
      "B: throughput at 128 MiB / unconstrained",
      rate(b, "consumer-128mib") / rate(b, "consumer"),
      ">=",
      0.9,
    ),
    check(
      "M-no-leak",
      "M: RSS after all messages / RSS after the first tenth",
      drains.M?.["consumer-bundle"]?.rssEndOverSample?.median ?? NaN,
      "<=",
      1.1,
    ),
    check(
      "D-start",
      "D: bundle start to first receive (ms)",
      drains.D?.["consumer-bundle"]?.startToFirstReceiveMs.median ?? NaN,
      "<",
      150,
    ),
    // "Off, it costs nothing measurable": off against the same code with tracing compiled out.
    check(
      "T-off-rate",
      "T: throughput, tracing off / compiled out",
      rate(t, "consumer-tracing-off") / rate(t, "consumer-untraced"),
      ">=",
      0.97,
    ),
    check(
      "T-off-cpu",
      "T: CPU per message, tracing off / compiled out",
      cpu(t, "consumer-tracing-off") / cpu(t, "consumer-untraced"),
      "<=",
      1.03,
    ),
    // Not targets of speed: they show that the "on" figures are of a consumer that exported, and that the sampler is honoured.
    check(
      "T-on-exported",
      "T: spans exported by the tracing-on run (fewest of its repetitions)",
      t["consumer-traced"]?.spansExported?.min ?? NaN,
      ">=",
      1,
    ),
    check(
      "T-sampled-off-exported",
      "T: spans exported with OTEL_TRACES_SAMPLER=always_off (most of its repetitions)",
      t["consumer-sampled-off"]?.spansExported?.max ?? NaN,
      "<=",
      0,
    ),
  ];
}

/**
 * Scenario F's targets: this consumer keeps every group's order and drains at least 5x
 * as fast as the sequential loop that keeps order the simple way. Undefined (n/a) when a contestant
 * did not run.
 */
export function checkFifoTargets(runs: readonly FifoRun[]): TargetCheck[] {
  const consumer = runs.find((r) => r.contestant === "consumer");
  const sequential = runs.find((r) => r.contestant === "sequential");
  return [
    check(
      "F-vs-sequential",
      "F: throughput / sequential order-keeping loop's",
      (consumer?.messagesPerSecond ?? NaN) / (sequential?.messagesPerSecond ?? NaN),
      ">=",
      5,
    ),
    check("F-order", "F: this consumer's order violations", consumer?.violations ?? NaN, "<=", 0),
  ];
}

/**
 * Scenario L's targets, per memory limit the preview accepts without a warning: the consumer ran to the
 * end (no OOM kill, no heap exhaustion), and its peak memory stayed within the limit.
 */
export function checkLargeMessageTargets(runs: readonly LargeMessageRun[]): TargetCheck[] {
  return runs
    .filter((r) => !r.previewWarns)
    .flatMap((r) => [
      check(
        `L-${r.limitMiB}-crashes`,
        `L: crashes at ${r.limitMiB} MiB, concurrency ${r.handlerConcurrency}`,
        r.crashed ? 1 : 0,
        "<=",
        0,
      ),
      check(`L-${r.limitMiB}-peak`, `L: peak memory / limit at ${r.limitMiB} MiB`, r.peakMiB / r.limitMiB, "<", 1),
    ]);
}
