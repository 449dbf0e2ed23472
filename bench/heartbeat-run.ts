// Scenario H: pre-load 10,000 messages, start this consumer with HANDLER_CONCURRENCY=10000 and a handler
// that holds each message for a while, add latency to every visibility call at the emulator, and read
// the consumer's own account of each heartbeat pass (debug log lines) until the queue is empty.
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import {
  consumerEnv,
  createRunQueue,
  deleteRunQueue,
  messagesHeld,
  preload,
  startProcess,
  withTimeout,
} from "../harness";
import type { BenchContext } from "./drain-run";
import type { HeartbeatScenario } from "./scenarios";
import { spread, type Spread } from "./stats";

/** Heartbeat passes that extended at least this share of the messages count as "full" passes. */
const LARGE_PASS_SHARE = 0.1;

export interface HeartbeatRun {
  readonly messages: number;
  readonly holdSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly visibilityLatencyMs: number;
  /** Heartbeat passes that extended at least one message, and the messages they extended in all. */
  readonly passes: number;
  readonly extensions: number;
  /** The most messages one pass extended, and how long that pass took. */
  readonly largestPass: { readonly messages: number; readonly ms: number };
  /** Time per pass, over passes that extended at least a tenth of the messages. */
  readonly largePassMs: Spread;
  readonly slowestPassMs: number;
  /** Extensions answered after the message's visibility had ended, as the consumer counted them. */
  readonly lapses: number;
  /** Messages handled with a receive count above 1: delivered again while held. */
  readonly redelivered: number;
  readonly handled: number;
  readonly visibilityFailures: number;
  readonly visibilityCalls: number;
  readonly messagesLeft: number;
  readonly deadLettered: number;
}

interface LogLine {
  readonly event?: string;
  readonly messages?: number;
  readonly tookMs?: number;
  readonly lapsed?: number;
  readonly receiveCount?: number;
}

export async function runHeartbeat(ctx: BenchContext, scenario: HeartbeatScenario): Promise<HeartbeatRun> {
  const key = `H-heartbeat-${Date.now()}`;
  const queueName = `bench-${key}`;
  const queue = await createRunQueue(ctx.setup, queueName);
  try {
    await preload(ctx.setup, queue.queueUrl, scenario.messages);
    ctx.emulator.delay(key, "ChangeMessageVisibility", scenario.visibilityLatencyMs);
    const watch = ctx.emulator.watch(key, queueName, [0]);
    const proc = startProcess(process.execPath, [ctx.bundles["heartbeat-holder"]], {
      env: {
        ...consumerEnv({
          endpoint: ctx.emulator.endpoint,
          homeDir: ctx.homeDir,
          queueUrl: queue.queueUrl,
          accessKeyId: key,
        }),
        HANDLER_CONCURRENCY: String(scenario.messages),
        VISIBILITY_TIMEOUT_SECONDS: String(scenario.visibilityTimeoutSeconds),
        HANDLER_TIMEOUT_SECONDS: String(scenario.holdSeconds + 60),
        LOG_LEVEL: "debug",
        BENCH_HOLD_SECONDS: String(scenario.holdSeconds),
      },
      stdout: "pipe",
    });
    const passes: { messages: number; ms: number }[] = [];
    let lapses = 0;
    let handled = 0;
    let redelivered = 0;
    let visibilityFailures = 0;
    createInterface({ input: proc.child.stdout! }).on("line", (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      if (line.event === "heartbeat") {
        passes.push({ messages: line.messages ?? 0, ms: line.tookMs ?? 0 });
        lapses += line.lapsed ?? 0;
      } else if (line.event === "held") {
        handled++;
        if ((line.receiveCount ?? 1) > 1) redelivered++;
      } else if (line.event === "visibility-failed") {
        visibilityFailures++;
      }
    });
    const exited = proc.exited.then(({ code, signal }): Promise<never> =>
      Promise.reject(
        new Error(`the heartbeat consumer exited (code ${code}, signal ${signal}); stderr:\n${proc.stderrTail()}`),
      ),
    );
    exited.catch(() => undefined);
    try {
      await withTimeout(
        Promise.race([watch.reached(0), exited]),
        (scenario.holdSeconds + 120) * 1000,
        "scenario H's queue to drain",
      );
      // The last log lines may still be in the pipe.
      await sleep(300);
      const served = await ctx.emulator.requests(key);
      const large = passes.filter((p) => p.messages >= scenario.messages * LARGE_PASS_SHARE);
      const largest = passes.reduce((a, b) => (b.messages > a.messages ? b : a), { messages: 0, ms: 0 });
      return {
        messages: scenario.messages,
        holdSeconds: scenario.holdSeconds,
        visibilityTimeoutSeconds: scenario.visibilityTimeoutSeconds,
        visibilityLatencyMs: scenario.visibilityLatencyMs,
        passes: passes.length,
        extensions: passes.reduce((sum, p) => sum + p.messages, 0),
        largestPass: largest,
        largePassMs: spread(large.map((p) => p.ms)),
        slowestPassMs: Math.max(0, ...passes.map((p) => p.ms)),
        lapses,
        redelivered,
        handled,
        visibilityFailures,
        visibilityCalls: served.filter((r) => r.operation.startsWith("ChangeMessageVisibility")).length,
        messagesLeft: await messagesHeld(ctx.setup, queue.queueUrl),
        deadLettered: await messagesHeld(ctx.setup, queue.dlqUrl),
      };
    } finally {
      await proc.kill();
      ctx.emulator.forget(key);
    }
  } finally {
    await deleteRunQueue(ctx.setup, queue);
  }
}
