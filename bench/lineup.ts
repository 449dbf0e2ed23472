// The contestants: who runs, from which bundle, how many receive loops each has, and how it is started.
import { DEFAULT_TUNABLES } from "../consumer/src/settings";

export type ContestantId =
  | "consumer"
  | "consumer-128mib"
  | "sqs-consumer"
  | "sqs-consumer-batch"
  | "raw-loop"
  | "consumer-bundle"
  | "consumer-untraced"
  | "consumer-tracing-off"
  | "consumer-traced"
  | "consumer-sampled-off";

export interface Contestant {
  readonly id: ContestantId;
  /** What the report calls it. */
  readonly label: string;
  /**
   * The bundle it runs: a bench/contestants/*.ts entry, the consumer's own bundle (consumer/build.mjs),
   * or this-consumer-process.ts with tracing compiled out (bench/bundles.ts).
   */
  readonly bundle:
    | "this-consumer"
    | "this-consumer-process"
    | "this-consumer-process-untraced"
    | "sqs-consumer-message"
    | "sqs-consumer-batch"
    | "raw-loop"
    | "consumer-main";
  readonly receiveLoops: number;
  /** A container-style memory limit (MiB), as the Deployment would run it. */
  readonly memoryLimitMiB?: number;
  /** Its client carries the counting middleware and answers "report" over IPC (not the shipped bundle). */
  readonly reportsClientCounts: boolean;
  /** The shipped bundle logs a line per message: to a file, as a container runtime would keep it. */
  readonly stdout: "discard" | "file";
  /**
   * Tracing turned on through the OTEL_* variables a Deployment sets, exporting to the orchestrator's
   * OTLP receiver: every span sampled ("export"), or the SDK running with `OTEL_TRACES_SAMPLER=always_off`.
   */
  readonly tracing?: "export" | "sampled-off";
}

/** The constrained runs' memory limit: 128 MiB, heap sized from it. */
export const CONSTRAINED_MEMORY_MIB = 128;

export const CONTESTANTS: { readonly [K in ContestantId]: Contestant } = {
  consumer: {
    id: "consumer",
    label: "this consumer",
    bundle: "this-consumer",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: true,
    stdout: "discard",
  },
  "consumer-128mib": {
    id: "consumer-128mib",
    label: `this consumer, ${CONSTRAINED_MEMORY_MIB} MiB`,
    bundle: "this-consumer",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    memoryLimitMiB: CONSTRAINED_MEMORY_MIB,
    reportsClientCounts: true,
    stdout: "discard",
  },
  "sqs-consumer": {
    id: "sqs-consumer",
    label: "sqs-consumer per message",
    bundle: "sqs-consumer-message",
    receiveLoops: 1,
    reportsClientCounts: true,
    stdout: "discard",
  },
  "sqs-consumer-batch": {
    id: "sqs-consumer-batch",
    label: "sqs-consumer batch",
    bundle: "sqs-consumer-batch",
    receiveLoops: 1,
    reportsClientCounts: true,
    stdout: "discard",
  },
  "raw-loop": {
    id: "raw-loop",
    label: "raw SDK loop",
    bundle: "raw-loop",
    receiveLoops: 1,
    reportsClientCounts: true,
    stdout: "discard",
  },
  "consumer-bundle": {
    id: "consumer-bundle",
    label: "this consumer, bundle, log to file",
    bundle: "consumer-main",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: false,
    stdout: "file",
  },
  // Scenario T: the consumer as its process runs it (runAsProcess), so OTEL_* turn tracing on as in a pod.
  "consumer-untraced": {
    id: "consumer-untraced",
    label: "tracing compiled out",
    bundle: "this-consumer-process-untraced",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: false,
    stdout: "discard",
  },
  "consumer-tracing-off": {
    id: "consumer-tracing-off",
    label: "tracing off (no OTEL_*)",
    bundle: "this-consumer-process",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: false,
    stdout: "discard",
  },
  "consumer-traced": {
    id: "consumer-traced",
    label: "tracing on",
    bundle: "this-consumer-process",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: false,
    stdout: "discard",
    tracing: "export",
  },
  "consumer-sampled-off": {
    id: "consumer-sampled-off",
    label: "tracing on, sampler always_off",
    bundle: "this-consumer-process",
    receiveLoops: DEFAULT_TUNABLES.receiveLoops,
    reportsClientCounts: false,
    stdout: "discard",
    tracing: "sampled-off",
  },
};
