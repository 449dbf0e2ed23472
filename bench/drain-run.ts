// One drain: pre-load a queue, start one contestant, and time it from its first receive until the
// queue is empty, reading its CPU and memory from /proc and its requests from the emulator.
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  cpuMs,
  createRunQueue,
  deleteRunQueue,
  epochMs,
  messagesHeld,
  preload,
  rssMiB,
  withTimeout,
  type EmulatorControl,
  type ServedRequest,
} from "../harness";
import type { BundlePaths } from "./bundles";
import type { Contestant, ContestantId } from "./lineup";
import type { OtlpSink } from "./otlp-sink";
import type { RequestCounts } from "./request-counter";
import type { DrainScenario, DrainScenarioId } from "./scenarios";
import { spawnContestant } from "./spawn-contestant";

/** After the drain, how long to wait before comparing counts: every contestant is then parked in a long poll. */
const QUIET_MS = 300;
const FIRST_RECEIVE_TIMEOUT_MS = 20_000;
/** A drain slower than 50 messages/s (plus a minute) is treated as stuck. */
const drainTimeoutMs = (messages: number): number => 60_000 + messages * 20;
/**
 * How long a traced run's spans may take to reach the receiver after the drain: the batch span
 * processor's default schedule delay (OTEL_BSP_SCHEDULE_DELAY, 5 s) plus 2 s for the export itself.
 * Source: opentelemetry-specification `specification/configuration/sdk-environment-variables.md`.
 */
const SPAN_EXPORT_WAIT_MS = 7_000;

/** What the orchestrator provides to every run. */
export interface BenchContext {
  readonly emulator: EmulatorControl;
  /** The orchestrator's own client: makes and fills queues; its access key is never watched. */
  readonly setup: SQSClient;
  readonly bundles: BundlePaths;
  readonly workDir: string;
  readonly homeDir: string;
  /** The OTLP/HTTP receiver traced contestants export to (scenario T). */
  readonly otlp: OtlpSink;
  /** Set by --cpu-prof: each run's contestant writes its CPU profile into a directory named for the run here. */
  readonly cpuProfileDir?: string | undefined;
}

export interface DrainRun {
  readonly scenario: DrainScenarioId;
  readonly contestant: ContestantId;
  readonly repetition: number;
  readonly messages: number;
  /** Messages left in the queue and in its DLQ afterwards: both 0 for a complete drain. */
  readonly messagesLeft: number;
  readonly deadLettered: number;
  /** From the first ReceiveMessage reaching the emulator to the response to the last delete. */
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** Counted at the emulator, from the start until the queue was empty. */
  readonly requests: RequestCounts;
  readonly requestsPerMessage: number;
  /** After the drain and a quiet moment: the emulator's count and, where it has one, the client middleware's. */
  readonly countsWhenQuiet: { readonly emulator: RequestCounts; readonly client: RequestCounts | undefined };
  /** Contestant CPU (user + system, from /proc) over the drain window. */
  readonly cpuMs: number;
  readonly cpuMsPer1000Messages: number;
  /** VmHWM: the process's peak resident set, start-up included. */
  readonly peakRssMiB: number;
  readonly rssAtEndMiB: number;
  /** RSS once `rssSampleAfter` messages were gone (the leak check). */
  readonly rssAtSampleMiB: number | undefined;
  /** From just before spawn to the first ReceiveMessage reaching the emulator. */
  readonly startToFirstReceiveMs: number;
  readonly memoryLimit:
    | {
        readonly limitMiB: number;
        readonly nodeOptions: string;
        readonly enforcedBy: string | undefined;
        readonly notEnforcedBecause: string | undefined;
        readonly cgroupPeakMiB: number | undefined;
        readonly oomKills: number | undefined;
      }
    | undefined;
  /**
   * Traced contestants: spans the receiver counted, against the spans the consumer ended (one per
   * message, one per completed ReceiveMessage, one per completed DeleteMessageBatch, by the emulator's
   * count). Fewer exported than ended means the batch span processor dropped some (its queue was full).
   */
  readonly spans:
    | {
        readonly exported: number;
        readonly ended: number;
        readonly exportRequests: number;
        readonly unreadable: number;
      }
    | undefined;
}

let runs = 0;

export function countByOperation(requests: readonly ServedRequest[]): RequestCounts {
  const counts: RequestCounts = {};
  for (const r of requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
  return counts;
}

export async function runDrain(
  ctx: BenchContext,
  scenario: DrainScenario,
  contestant: Contestant,
  repetition: number,
): Promise<DrainRun> {
  const key = `${scenario.id}-${contestant.id}-r${repetition}-${++runs}`;
  const queueName = `bench-${key}`;
  const n = scenario.messages;
  const queue = await createRunQueue(ctx.setup, queueName);
  const logFile = join(ctx.workDir, `${key}.log`);
  try {
    await preload(ctx.setup, queue.queueUrl, n);
    const sampleMark = scenario.rssSampleAfter === undefined ? undefined : n - scenario.rssSampleAfter;
    const watch = ctx.emulator.watch(key, queueName, sampleMark === undefined ? [0] : [sampleMark, 0]);
    const spawnedAt = epochMs();
    const proc = spawnContestant(contestant, {
      bundles: ctx.bundles,
      endpoint: ctx.emulator.endpoint,
      homeDir: ctx.homeDir,
      queueUrl: queue.queueUrl,
      accessKeyId: key,
      work: scenario.work,
      logFile,
      otlpEndpoint: `${ctx.otlp.endpoint}/${key}`,
      ...(ctx.cpuProfileDir ? { cpuProfileDir: join(ctx.cpuProfileDir, key) } : {}),
    });
    try {
      const during = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
        withTimeout(Promise.race([promise, proc.failed]), ms, `${contestant.label}: ${what}`);
      const firstReceiveAt = await during(watch.firstReceive, FIRST_RECEIVE_TIMEOUT_MS, "its first receive");
      const cpuAtFirstReceive = cpuMs(proc.pid);
      let rssAtSampleMiB: number | undefined;
      if (sampleMark !== undefined) {
        await during(watch.reached(sampleMark), drainTimeoutMs(n), `${scenario.rssSampleAfter} messages`);
        rssAtSampleMiB = rssMiB(proc.pid).now;
      }
      const drainedAt = await during(watch.reached(0), drainTimeoutMs(n), "the queue to drain");
      const cpuAtDrain = cpuMs(proc.pid);
      const rss = rssMiB(proc.pid);

      await sleep(QUIET_MS);
      const served = await ctx.emulator.requests(key);
      const client = contestant.reportsClientCounts ? await proc.report() : undefined;
      const limitUsage = proc.memoryLimit?.usage();
      const spans = contestant.tracing ? await awaitSpans(ctx.otlp, key, n, served) : undefined;
      const requests = countByOperation(served.filter((r) => r.start <= drainedAt));
      const total = Object.values(requests).reduce((a, b) => a + b, 0);
      const seconds = (drainedAt - firstReceiveAt) / 1000;
      const cpu = cpuAtDrain - cpuAtFirstReceive;
      return {
        scenario: scenario.id,
        contestant: contestant.id,
        repetition,
        messages: n,
        messagesLeft: await messagesHeld(ctx.setup, queue.queueUrl),
        deadLettered: await messagesHeld(ctx.setup, queue.dlqUrl),
        seconds,
        messagesPerSecond: n / seconds,
        requests,
        requestsPerMessage: total / n,
        countsWhenQuiet: { emulator: countByOperation(served), client },
        cpuMs: cpu,
        cpuMsPer1000Messages: (cpu / n) * 1000,
        peakRssMiB: rss.peak,
        rssAtEndMiB: rss.now,
        rssAtSampleMiB,
        startToFirstReceiveMs: firstReceiveAt - spawnedAt,
        memoryLimit: proc.memoryLimit && {
          limitMiB: proc.memoryLimit.limitMiB,
          nodeOptions: proc.memoryLimit.nodeOptions,
          enforcedBy: proc.memoryLimit.enforcedBy,
          notEnforcedBecause: proc.memoryLimit.notEnforcedBecause,
          cgroupPeakMiB: limitUsage?.peakMiB,
          oomKills: limitUsage?.oomKills,
        },
        spans,
      };
    } finally {
      await proc.stop();
      ctx.emulator.forget(key);
    }
  } finally {
    rmSync(logFile, { force: true });
    await deleteRunQueue(ctx.setup, queue);
  }
}

/**
 * Waits until the receiver has every span the run ended, or SPAN_EXPORT_WAIT_MS (a sampled-off run
 * exports nothing, so it always waits the whole time: what arrives meanwhile is counted).
 */
async function awaitSpans(
  otlp: OtlpSink,
  key: string,
  messages: number,
  served: readonly ServedRequest[],
): Promise<NonNullable<DrainRun["spans"]>> {
  const ended =
    messages +
    served.filter(
      (r) => r.end !== undefined && (r.operation === "ReceiveMessage" || r.operation === "DeleteMessageBatch"),
    ).length;
  const until = Date.now() + SPAN_EXPORT_WAIT_MS;
  while (otlp.counts(key).spans < ended && Date.now() < until) await sleep(100);
  const counts = otlp.counts(key);
  return { exported: counts.spans, ended, exportRequests: counts.requests, unreadable: counts.unreadable };
}
