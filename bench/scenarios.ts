// What is measured, and at what size: the full run and the quick run (CI).
import { DEFAULT_TUNABLES } from "../consumer/src/settings";
import type { Work } from "./contestants/common";
import type { LargeMessageScenario } from "./large-message-run";
import type { ContestantId } from "./lineup";

export type DrainScenarioId = "A" | "B" | "P" | "D" | "M" | "T";
/**
 * F, the FIFO scenario, runs on the FIFO stand-in: see bench/fifo/run.ts. H holds 10,000 messages under the
 * heartbeat. L runs messages of SQS's largest size at the memory limits the program allows (large-message-run.ts).
 * P puts the hot path against its floor: a raw SDK loop doing the same checks and logging.
 */
export type ScenarioId = DrainScenarioId | "C" | "H" | "F" | "L";
export const SCENARIO_IDS: readonly ScenarioId[] = ["A", "B", "P", "C", "D", "M", "T", "H", "F", "L"];

/** Pre-load a queue, start a contestant, time it until the queue is empty. */
export interface DrainScenario {
  readonly id: DrainScenarioId;
  readonly title: string;
  /** The handler's work; undefined for the shipped bundle, whose default handler logs each message. */
  readonly work: Work | undefined;
  readonly messages: number;
  readonly contestants: readonly ContestantId[];
  /** Also sample the contestant's RSS once this many messages are gone (the leak check). */
  readonly rssSampleAfter?: number;
}

/** Start contestants on empty queues and count their requests over a window. */
export interface IdleScenario {
  readonly id: "C";
  readonly title: string;
  readonly windowSeconds: number;
  /** Time after a contestant's first request before its window opens, so start-up calls stay out. */
  readonly settleSeconds: number;
  readonly contestants: readonly ContestantId[];
}

/**
 * Hold many messages at once while every visibility call is slowed down: the heartbeat must keep
 * every one of them invisible. Run once (not repeated): its figures are counts and pass times.
 */
export interface HeartbeatScenario {
  readonly id: "H";
  readonly title: string;
  /** Messages pre-loaded, all held at once (HANDLER_CONCURRENCY is set to this). */
  readonly messages: number;
  /** How long the handler holds each message. */
  readonly holdSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Added by the emulator to every ChangeMessageVisibility(Batch) call. */
  readonly visibilityLatencyMs: number;
}

export interface BenchPlan {
  readonly mode: "full" | "quick";
  readonly repetitions: number;
  readonly drains: readonly DrainScenario[];
  readonly idle: IdleScenario | undefined;
  readonly heartbeat: HeartbeatScenario | undefined;
  readonly largeMessages: LargeMessageScenario | undefined;
}

const COMPARED: readonly ContestantId[] = ["consumer", "sqs-consumer", "sqs-consumer-batch", "raw-loop"];
/** Scenario T: this consumer as its process runs it, tracing compiled out, off (no OTEL_*), on, and on but sampled off. */
export const TRACING_LINEUP: readonly ContestantId[] = [
  "consumer-untraced",
  "consumer-tracing-off",
  "consumer-traced",
  "consumer-sampled-off",
];

/**
 * The plan of a run: the full sizes, or the quick ones (CI); only the scenarios in `only`; `repetitions`
 * of each, when given, instead of the mode's (3 full, 1 quick): more of them narrow the medians on a noisy machine.
 */
export function benchPlan(quick: boolean, only: readonly ScenarioId[] = SCENARIO_IDS, repetitions?: number): BenchPlan {
  const n = quick
    ? {
        A: 1_000,
        B: 300,
        P: 1_000,
        D: 1_000,
        T: 1_000,
        M: 10_000,
        mSample: 1_000,
        idleSeconds: 5,
        settleSeconds: 2,
        repetitions: 1,
        holdSeconds: 35,
        largeLimitsMiB: [64, 128],
      }
    : {
        A: 20_000,
        B: 5_000,
        P: 10_000,
        D: 20_000,
        T: 20_000,
        M: 200_000,
        mSample: 20_000,
        idleSeconds: 45,
        settleSeconds: 5,
        repetitions: 3,
        holdSeconds: 75,
        largeLimitsMiB: [64, 128, 256, 512],
      };
  const drains: DrainScenario[] = [
    {
      id: "A",
      title: "drain, no-op handler",
      work: "none",
      messages: n.A,
      contestants: [...COMPARED, "consumer-128mib"],
    },
    {
      id: "B",
      title: "drain, handler awaits 50 ms per message",
      work: "sleep-50ms",
      messages: n.B,
      contestants: [...COMPARED, "consumer-128mib"],
    },
    // The hot path against its floor: this consumer and the raw SDK loop doing the same per message,
    // each message's digests checked and one log line written (this consumer's own, to stdout).
    {
      id: "P",
      title: "drain, every contestant checks each message's digests and logs it (this consumer's log line)",
      work: "log",
      messages: n.P,
      contestants: ["consumer", "raw-loop"],
    },
    {
      id: "D",
      title: "drain, the shipped bundle with its default log handler, stdout to a file",
      work: undefined,
      messages: n.D,
      contestants: ["consumer-bundle"],
    },
    {
      id: "M",
      title: `memory over ${n.M.toLocaleString("en-US")} messages (shipped bundle, default handler)`,
      work: undefined,
      messages: n.M,
      contestants: ["consumer-bundle"],
      rssSampleAfter: n.mSample,
    },
    {
      id: "T",
      title:
        "drain, no-op handler, this consumer (runAsProcess) with tracing compiled out, off, on, on but sampled off",
      work: "none",
      messages: n.T,
      contestants: TRACING_LINEUP,
    },
  ];
  return {
    mode: quick ? "quick" : "full",
    repetitions: repetitions ?? n.repetitions,
    drains: drains.filter((d) => only.includes(d.id)),
    idle: only.includes("C")
      ? {
          id: "C",
          title: "idle queue: requests per minute per receive loop",
          windowSeconds: n.idleSeconds,
          settleSeconds: n.settleSeconds,
          contestants: COMPARED,
        }
      : undefined,
    // The default visibility timeout (30 s): each message is extended at least once (quick: held 35 s)
    // or twice (full: 75 s).
    heartbeat: only.includes("H")
      ? {
          id: "H",
          title: "heartbeat: 10,000 messages held at once, 30 ms added to every visibility call",
          messages: 10_000,
          holdSeconds: n.holdSeconds,
          visibilityTimeoutSeconds: DEFAULT_TUNABLES.visibilityTimeoutSeconds,
          visibilityLatencyMs: 30,
        }
      : undefined,
    // From memoryLimitMiB's smallest allowed value (infra/config/keys.ts) up; each message held 2 s so every slot fills.
    largeMessages: only.includes("L")
      ? {
          id: "L",
          title:
            "messages of 1 MiB (SQS's largest) at memory limits from the smallest allowed, the most handler slots the preview accepts",
          limitsMiB: n.largeLimitsMiB,
          holdSeconds: 2,
        }
      : undefined,
  };
}
