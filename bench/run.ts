// `npm run bench`: this consumer against sqs-consumer and a hand-written SDK loop, on one SQS
// emulator, in one run, this consumer's visibility heartbeat holding 10,000 messages (H), and FIFO
// order on the FIFO stand-in (F). Flags: --quick (small sizes, one repetition: CI), --repetitions N (instead
// of 3, or 1 with --quick: more narrow the medians on a noisy machine), --json (one JSON
// document on stdout; the tables go to stderr), --scenario A,B,P,C,D,M,T,H,F,L (a subset; P puts the hot path
// against a raw SDK loop doing the same work, L runs messages of SQS's largest size at the memory limits the
// program allows), --cpu-prof (each drain's contestant runs under `node --cpu-prof`; profiles are kept in
// .bench/profiles/).
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { describeMachine, loadAverage, procAvailable, startEmulatorProcess } from "../harness";
import { buildBundles } from "./bundles";
import type { DrainRun } from "./drain-run";
import { runDrain, type BenchContext } from "./drain-run";
import { runIdle, type IdleRun } from "./idle-run";
import { CONTESTANTS } from "./lineup";
import { runHeartbeat, type HeartbeatRun } from "./heartbeat-run";
import { renderLargeMessages, runLargeMessages, type LargeMessageRun } from "./large-message-run";
import { fifoPlan, renderFifo, runFifo, type FifoRun } from "./fifo/run";
import { startOtlpSink } from "./otlp-sink";
import { METHOD, renderReport, renderTargetLine, type BenchResult } from "./report";
import { SCENARIO_IDS, benchPlan, type ScenarioId } from "./scenarios";
import { checkCounting, summarizeDrains, summarizeIdle } from "./summary";
import { checkLargeMessageTargets, checkTargets } from "./targets";

const repoDir = join(__dirname, "..");

function parseOptions(): {
  quick: boolean;
  json: boolean;
  cpuProf: boolean;
  scenarios: ScenarioId[];
  repetitions: number | undefined;
} {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      json: { type: "boolean" },
      scenario: { type: "string" },
      "cpu-prof": { type: "boolean" },
      repetitions: { type: "string" },
    },
  });
  const repetitions = values.repetitions === undefined ? undefined : Number(values.repetitions);
  if (repetitions !== undefined && !(Number.isInteger(repetitions) && repetitions >= 1 && repetitions <= 50))
    throw new Error(`--repetitions takes a whole number from 1 to 50; got ${values.repetitions}`);
  const wanted =
    values.scenario === undefined ? [...SCENARIO_IDS] : values.scenario.split(",").map((s) => s.trim().toUpperCase());
  const unknown = wanted.filter((s) => !(SCENARIO_IDS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(`unknown scenario(s) ${unknown.join(", ")}: choose from ${SCENARIO_IDS.join(", ")}`);
  return {
    quick: values.quick ?? false,
    json: values.json ?? false,
    cpuProf: values["cpu-prof"] ?? false,
    scenarios: wanted as ScenarioId[],
    repetitions,
  };
}

/** The contestants' order moves by one each repetition, so no contestant always runs first or last. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!procAvailable()) throw new Error("the benchmark reads CPU and memory from /proc: it needs Linux");
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const plan = benchPlan(options.quick, options.scenarios, options.repetitions);
  const startedAt = new Date();
  const machine = describeMachine();

  const workDir = join(repoDir, ".bench", `run-${startedAt.toISOString().replace(/[:.]/g, "-")}`);
  const homeDir = join(workDir, "home");
  mkdirSync(homeDir, { recursive: true });
  progress(`bundling contestants into ${join(repoDir, ".bench", "build")}`);
  const bundles = await buildBundles(join(repoDir, ".bench", "build"));
  const emulator = await startEmulatorProcess();
  const otlp = await startOtlpSink();
  const setup = new SQSClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench-setup", secretAccessKey: "bench-placeholder" },
  });
  const cpuProfileDir = options.cpuProf
    ? join(repoDir, ".bench", "profiles", startedAt.toISOString().replace(/[:.]/g, "-"))
    : undefined;
  if (cpuProfileDir) progress(`CPU profiles go to ${cpuProfileDir}`);
  const ctx: BenchContext = { emulator, setup, bundles, workDir, homeDir, otlp, cpuProfileDir };

  const drains: DrainRun[] = [];
  let idle: IdleRun[] = [];
  let heartbeat: HeartbeatRun | undefined;
  const fifo = options.scenarios.includes("F") ? fifoPlan(options.quick) : undefined;
  let fifoRuns: FifoRun[] = [];
  let largeRuns: LargeMessageRun[] = [];
  try {
    for (let repetition = 1; repetition <= plan.repetitions; repetition++) {
      for (const scenario of plan.drains) {
        for (const id of rotate(scenario.contestants, repetition - 1)) {
          const run = await runDrain(ctx, scenario, CONTESTANTS[id], repetition);
          drains.push(run);
          progress(
            `${scenario.id} r${repetition} ${CONTESTANTS[id].label}: ${Math.round(run.messagesPerSecond)} msg/s, ${run.requestsPerMessage.toFixed(3)} req/msg, ` +
              `${Math.round(run.cpuMsPer1000Messages)} CPU ms/1k, peak RSS ${Math.round(run.peakRssMiB)} MiB, first receive after ${Math.round(run.startToFirstReceiveMs)} ms` +
              (run.spans
                ? `, spans exported ${run.spans.exported} of ${run.spans.ended} ended (${run.spans.exportRequests} OTLP requests)`
                : ""),
          );
        }
      }
    }
    if (plan.idle) {
      progress(
        `C: ${plan.idle.contestants.length * plan.repetitions} idle contestants side by side for ${plan.idle.settleSeconds + plan.idle.windowSeconds} s`,
      );
      idle = await runIdle(ctx, plan.idle, plan.repetitions);
    }
    if (plan.heartbeat) {
      progress(
        `H: ${plan.heartbeat.messages} messages held ${plan.heartbeat.holdSeconds} s, visibility ${plan.heartbeat.visibilityTimeoutSeconds} s, +${plan.heartbeat.visibilityLatencyMs} ms per visibility call`,
      );
      heartbeat = await runHeartbeat(ctx, plan.heartbeat);
      progress(
        `H: ${heartbeat.passes} passes, largest ${heartbeat.largestPass.messages} messages in ${heartbeat.largestPass.ms} ms, ${heartbeat.lapses} lapses, ${heartbeat.redelivered} redelivered`,
      );
    }
    if (plan.largeMessages) largeRuns = await runLargeMessages(ctx, plan.largeMessages, progress);
    if (fifo) fifoRuns = await runFifo(fifo, { buildDir: join(repoDir, ".bench", "build"), homeDir }, progress);
  } finally {
    setup.destroy();
    await otlp.close();
    await emulator.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  const summary = { drains: summarizeDrains(drains), idle: summarizeIdle(idle) };
  const result: BenchResult = {
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    machine,
    loadAverageAtEnd: loadAverage(),
    plan,
    method: METHOD,
    runs: { drains, idle, heartbeat },
    summary,
    countingCheck: checkCounting(drains),
    targets: checkTargets(summary.drains, summary.idle),
  };
  const large = plan.largeMessages
    ? [
        renderLargeMessages(plan.largeMessages, largeRuns),
        "",
        "Targets (scenario L)",
        ...checkLargeMessageTargets(largeRuns).map(renderTargetLine),
      ].join("\n")
    : undefined;
  const text = renderReport(result) + (large ? `\n\n${large}` : "") + (fifo ? `\n\n${renderFifo(fifo, fifoRuns)}` : "");
  if (options.json) {
    process.stderr.write(`${text}\n`);
    process.stdout.write(
      `${JSON.stringify(
        {
          ...result,
          ...(plan.largeMessages
            ? { largeMessages: { runs: largeRuns, targets: checkLargeMessageTargets(largeRuns) } }
            : {}),
          ...(fifo ? { fifo: { plan: fifo, runs: fifoRuns } } : {}),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(`${text}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
