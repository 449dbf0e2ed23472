// Scenario L: messages of SQS's largest size (1 MiB) at the memory limits the program allows. For each
// limit, pre-load the queue, start this consumer inside that limit (a hard cgroup limit where this machine
// lets us, and always the heap flags the Deployment derives from it), with HANDLER_CONCURRENCY at the
// most the preview accepts without a warning for that limit (the memory budget's `held`, at least 1),
// holding each message for a while so that every slot can fill; then read how much memory it took at
// its peak against the limit, and whether it survived until the queue was empty.
import { createInterface } from "node:readline";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { SQS_MAX_MESSAGE_BYTES, messagesOfLargestSize } from "../consumer/src/contract";
import {
  consumerEnv,
  createRunQueue,
  deleteRunQueue,
  messagesHeld,
  rssMiB,
  startProcess,
  withTimeout,
} from "../harness";
import type { BenchContext } from "./drain-run";
import { createMemoryLimit } from "./memory-limit";

/** Scenario L's plan: the memory limits tried, MiB, and how long the handler holds each message. */
export interface LargeMessageScenario {
  readonly id: "L";
  readonly title: string;
  readonly limitsMiB: readonly number[];
  readonly holdSeconds: number;
}

export interface LargeMessageRun {
  readonly limitMiB: number;
  /** HANDLER_CONCURRENCY: the most the preview accepts without a warning, at least 1. */
  readonly handlerConcurrency: number;
  /** True when the preview warns about this limit whatever the concurrency (the budget holds no receive of one). */
  readonly previewWarns: boolean;
  /** The consumer's memory budget for this limit, MiB. */
  readonly budgetMiB: number;
  readonly messages: number;
  readonly handled: number;
  /** The most messages its handlers held at once: the most handlers that ended within one hold time of each other. */
  readonly mostHeld: number;
  /** What enforced the limit ("cgroup v1 memory.limit_in_bytes"), or why nothing did. */
  readonly enforcedBy: string;
  /** Peak memory: the cgroup's charge where a cgroup enforced the limit, else the process's peak RSS. */
  readonly peakMiB: number;
  readonly peakRssMiB: number;
  readonly oomKills: number;
  /** Undefined while it ran to the end; else how it ended. */
  readonly crashed: string | undefined;
  readonly messagesLeft: number;
}

interface LogLine {
  readonly event?: string;
}

/** Pre-loads `count` messages of SQS's largest size; one per batch, since a batch's payload is capped at that size. */
async function preloadLargest(ctx: BenchContext, queueUrl: string, count: number): Promise<void> {
  const body = "x".repeat(SQS_MAX_MESSAGE_BYTES);
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < count) {
      const id = String(next++);
      const { Failed: failed = [] } = await ctx.setup.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: id, MessageBody: body }] }),
      );
      if (failed.length > 0) throw new Error(`pre-loading failed: ${JSON.stringify(failed)}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, sender));
}

export async function runLargeMessages(
  ctx: BenchContext,
  scenario: LargeMessageScenario,
  progress: (line: string) => void,
): Promise<LargeMessageRun[]> {
  const runs: LargeMessageRun[] = [];
  for (const limitMiB of scenario.limitsMiB) {
    const run = await runAtLimit(ctx, scenario, limitMiB);
    runs.push(run);
    progress(
      `L ${limitMiB} MiB: concurrency ${run.handlerConcurrency}, ${run.handled}/${run.messages} handled, at most ${run.mostHeld} held, ` +
        `peak ${Math.round(run.peakMiB)} MiB of ${limitMiB} (${run.enforcedBy})${run.crashed ? `, CRASHED: ${run.crashed}` : ""}`,
    );
  }
  return runs;
}

async function runAtLimit(
  ctx: BenchContext,
  scenario: LargeMessageScenario,
  limitMiB: number,
): Promise<LargeMessageRun> {
  const key = `L-${limitMiB}-${Date.now()}`;
  const largest = messagesOfLargestSize(limitMiB);
  const handlerConcurrency = Math.max(1, largest.held);
  // Enough for every slot to fill and a few receives to wait for memory behind them.
  const messages = handlerConcurrency + 10;
  // Messages of SQS's largest size: the queue must accept them (MaximumMessageSize 1,048,576).
  const queue = await createRunQueue(ctx.setup, `bench-${key}`, SQS_MAX_MESSAGE_BYTES);
  const limit = createMemoryLimit(`bench-${key}`, limitMiB);
  try {
    await preloadLargest(ctx, queue.queueUrl, messages);
    const { command, args } = limit.wrap(process.execPath, [ctx.bundles["heartbeat-holder"]]);
    const proc = startProcess(command, args, {
      env: {
        ...consumerEnv({
          endpoint: ctx.emulator.endpoint,
          homeDir: ctx.homeDir,
          queueUrl: queue.queueUrl,
          accessKeyId: key,
        }),
        NODE_OPTIONS: limit.nodeOptions,
        HANDLER_CONCURRENCY: String(handlerConcurrency),
        BENCH_HOLD_SECONDS: String(scenario.holdSeconds),
        HANDLER_TIMEOUT_SECONDS: String(scenario.holdSeconds + 60),
      },
      stdout: "pipe",
    });
    let handled = 0;
    const heldAt: number[] = [];
    let peakRss = 0;
    createInterface({ input: proc.child.stdout! }).on("line", (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      if (line.event === "held") {
        handled++;
        heldAt.push(Date.now());
      }
    });
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssMiB(proc.pid).peak);
      } catch {
        // The process has exited: its last sample stands.
      }
    }, 100);
    let crashed: string | undefined;
    try {
      const exited = proc.exited.then(
        ({ code, signal }) => `exited (code ${code}, signal ${signal}): ${proc.stderrTail().slice(-300)}`,
      );
      const done = (async (): Promise<undefined> => {
        while (handled < messages) await new Promise((resolve) => setTimeout(resolve, 200));
        return undefined;
      })();
      crashed = await withTimeout(
        Promise.race([done, exited]),
        (scenario.holdSeconds * messages + 120) * 1000,
        `scenario L's ${messages} messages at ${limitMiB} MiB`,
      );
    } finally {
      clearInterval(sampler);
      await proc.kill();
    }
    const usage = limit.usage();
    // Each handler holds its message for the same time, so those that ended within one hold time of each other were held together.
    const holdMs = scenario.holdSeconds * 1000;
    const mostHeld = Math.max(0, ...heldAt.map((t, i) => heldAt.slice(i).filter((u) => u - t < holdMs).length));
    return {
      limitMiB,
      handlerConcurrency,
      previewWarns: largest.held === 0,
      budgetMiB: largest.budgetMiB,
      messages,
      handled,
      mostHeld,
      enforcedBy: limit.enforcedBy ?? `no hard limit: ${limit.notEnforcedBecause ?? "unknown"}`,
      peakMiB: usage?.peakMiB ?? peakRss,
      peakRssMiB: peakRss,
      oomKills: usage?.oomKills ?? 0,
      crashed: crashed ?? (usage !== undefined && usage.oomKills > 0 ? `${usage.oomKills} OOM kill(s)` : undefined),
      messagesLeft: await messagesHeld(ctx.setup, queue.queueUrl),
    };
  } finally {
    limit.remove();
    await deleteRunQueue(ctx.setup, queue);
  }
}

/** Scenario L as report lines: one per memory limit. */
export function renderLargeMessages(scenario: LargeMessageScenario, runs: readonly LargeMessageRun[]): string {
  const lines = [
    `Scenario L: ${scenario.title}`,
    "  limit MiB  budget MiB  concurrency  handled  most held  peak MiB  peak/limit  crashed  enforced by",
  ];
  for (const r of runs) {
    lines.push(
      `  ${String(r.limitMiB).padStart(9)}  ${String(r.budgetMiB).padStart(10)}  ${String(r.handlerConcurrency).padStart(11)}` +
        `${r.previewWarns ? "*" : " "}${`${r.handled}/${r.messages}`.padStart(8)}  ${String(r.mostHeld).padStart(9)}` +
        `  ${Math.round(r.peakMiB).toString().padStart(8)}  ${(r.peakMiB / r.limitMiB).toFixed(2).padStart(10)}` +
        `  ${(r.crashed ? "yes" : "no").padStart(7)}  ${r.enforcedBy}`,
    );
  }
  lines.push(
    "  * the preview warns at this limit whatever the concurrency: its budget holds no receive of one such message",
  );
  return lines.join("\n");
}
