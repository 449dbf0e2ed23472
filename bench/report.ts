// The run's result as one JSON document, and as the tables a person reads.
import type { Machine } from "../harness";
import type { DrainRun } from "./drain-run";
import type { HeartbeatRun } from "./heartbeat-run";
import type { IdleRun } from "./idle-run";
import { CONTESTANTS, type ContestantId } from "./lineup";
import type { BenchPlan } from "./scenarios";
import type { Spread } from "./stats";
import type { CountingCheck, DrainFigures, DrainSummary, IdleSummary } from "./summary";
import type { TargetCheck } from "./targets";

export interface BenchResult {
  readonly mode: BenchPlan["mode"];
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly loadAverageAtEnd: readonly number[];
  readonly plan: BenchPlan;
  /** How each figure is measured, in words, so the JSON stands on its own. */
  readonly method: Readonly<Record<string, string>>;
  readonly runs: {
    readonly drains: readonly DrainRun[];
    readonly idle: readonly IdleRun[];
    readonly heartbeat: HeartbeatRun | undefined;
  };
  readonly summary: { readonly drains: DrainSummary; readonly idle: IdleSummary };
  readonly countingCheck: CountingCheck;
  readonly targets: readonly TargetCheck[];
}

export const METHOD: Readonly<Record<string, string>> = {
  processes:
    "fauxqs in its own process on 127.0.0.1; each contestant its own process (an esbuild bundle run by plain node); the orchestrator only waits",
  throughput:
    "messages / time from the run's first ReceiveMessage reaching the emulator to the response to the delete that emptied the queue",
  requests:
    "counted at the emulator (fauxqs onRequest hook) by the access key each run signs with, up to the drain; library contestants also count with an SDK middleware, compared after a quiet moment",
  cpu: "user + system time of the contestant process from /proc/<pid>/stat (10 ms ticks), between its first receive and the drain; the emulator's CPU is not included",
  memory:
    "peak RSS is /proc/<pid>/status VmHWM (start-up included); the leak check compares VmRSS after the first tenth of the messages with VmRSS after all",
  start: "from just before spawn to the first ReceiveMessage reaching the emulator",
  idle: "requests per minute per receive loop over the window, each request weighted by the share of its duration inside the window",
  tracing:
    "scenario T: this consumer started as its process starts it (runAsProcess) with default settings and a no-op handler, as a bundle; tracing on = the OTEL_* variables the stack renders (OTLP/HTTP protobuf) pointing at a receiver in the orchestrator that counts the spans of each run; sampled off = the same plus OTEL_TRACES_SAMPLER=always_off; compiled out = the same sources bundled with consumer/src/tracing.ts and tracing-sdk.ts replaced by no-op modules and consumer/src's @opentelemetry/api imports by a context.with that calls through (no @opentelemetry code in that bundle, checked at build)",
  heartbeat:
    "this consumer (a bundle) with HANDLER_CONCURRENCY = messages and a handler that holds each message; the emulator delays every ChangeMessageVisibility call; pass times and lapses are the consumer's own debug lines (event heartbeat), redeliveries are handled messages with a receive count above 1",
};

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const twoDecimals = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const threeDecimals = new Intl.NumberFormat("en-US", { minimumFractionDigits: 3, maximumFractionDigits: 3 });

function show(s: Spread | undefined, format: Intl.NumberFormat): string {
  if (!s || s.n === 0) return "-";
  if (s.n === 1) return format.format(s.median);
  return `${format.format(s.median)} (${format.format(s.min)}-${format.format(s.max)})`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Scenario T's ratios of medians: what tracing costs off (against compiled out), on and sampled off (against off). */
function tracingRatios(figures: Partial<Record<ContestantId, DrainFigures>>): string[] {
  const ratio = (of: ContestantId, to: ContestantId): string => {
    const rate = (figures[of]?.messagesPerSecond.median ?? NaN) / (figures[to]?.messagesPerSecond.median ?? NaN);
    const cpu = (figures[of]?.cpuMsPer1000Messages.median ?? NaN) / (figures[to]?.cpuMsPer1000Messages.median ?? NaN);
    const fmt = (x: number): string => (Number.isFinite(x) ? twoDecimals.format(x) : "-");
    return `throughput ${fmt(rate)}, CPU per message ${fmt(cpu)}`;
  };
  return [
    `  off / compiled out:  ${ratio("consumer-tracing-off", "consumer-untraced")}`,
    `  on / off:            ${ratio("consumer-traced", "consumer-tracing-off")}`,
    `  sampled off / off:   ${ratio("consumer-sampled-off", "consumer-tracing-off")}`,
  ];
}

export function renderReport(result: BenchResult): string {
  const { machine, plan } = result;
  const out: string[] = [];
  out.push(
    `npm run bench (${result.mode}): ${plan.repetitions} repetition(s), interleaved; medians with (min-max)`,
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(" ")} at start, ${result.loadAverageAtEnd.join(" ")} at end; took ${integer.format(result.durationSeconds)} s`,
  );
  for (const scenario of plan.drains) {
    const figures = result.summary.drains[scenario.id] ?? {};
    out.push("", `Scenario ${scenario.id}: ${scenario.title}, ${integer.format(scenario.messages)} messages`);
    const rows = scenario.contestants.map((id: ContestantId) => {
      const f = figures[id];
      return [
        CONTESTANTS[id].label,
        show(f?.messagesPerSecond, integer),
        show(f?.requestsPerMessage, threeDecimals),
        show(f?.cpuMsPer1000Messages, integer),
        show(f?.peakRssMiB, integer),
        show(f?.startToFirstReceiveMs, integer),
        ...(scenario.rssSampleAfter === undefined ? [] : [show(f?.rssEndOverSample, twoDecimals)]),
        ...(scenario.id === "T"
          ? [f?.spansExported ? `${show(f.spansExported, integer)} / ${show(f.spansEnded, integer)}` : "-"]
          : []),
      ];
    });
    const header = [
      "contestant",
      "messages/s",
      "requests/message",
      "CPU ms/1,000 msgs",
      "peak RSS MiB",
      "start to 1st receive ms",
    ];
    if (scenario.rssSampleAfter !== undefined)
      header.push(`RSS end / after ${integer.format(scenario.rssSampleAfter)}`);
    if (scenario.id === "T") header.push("spans exported / ended");
    out.push(table(header, rows));
    if (scenario.id === "T") out.push(...tracingRatios(figures));
  }
  if (plan.idle) {
    out.push("", `Scenario C: ${plan.idle.title}, ${plan.idle.windowSeconds} s window`);
    out.push(
      table(
        ["contestant", "receive loops", "requests/minute/loop"],
        plan.idle.contestants.map((id) => [
          CONTESTANTS[id].label,
          String(CONTESTANTS[id].receiveLoops),
          show(result.summary.idle[id]?.requestsPerMinutePerLoop, twoDecimals),
        ]),
      ),
    );
  }
  const h = result.runs.heartbeat;
  if (plan.heartbeat && h) {
    out.push(
      "",
      `Scenario H: ${plan.heartbeat.title}; visibility timeout ${h.visibilityTimeoutSeconds} s, each message held ${h.holdSeconds} s (one run)`,
      table(
        [
          "passes",
          "extensions",
          "largest pass",
          "pass ms (passes >= 10%)",
          "slowest pass ms",
          "lapses",
          "redelivered",
          "visibility failures",
          "handled",
          "left + DLQ",
        ],
        [
          [
            String(h.passes),
            integer.format(h.extensions),
            `${integer.format(h.largestPass.messages)} msgs in ${integer.format(h.largestPass.ms)} ms`,
            show(h.largePassMs, integer),
            integer.format(h.slowestPassMs),
            String(h.lapses),
            String(h.redelivered),
            String(h.visibilityFailures),
            integer.format(h.handled),
            String(h.messagesLeft + h.deadLettered),
          ],
        ],
      ),
    );
  }
  const limitedRuns = result.runs.drains.flatMap((r) => (r.memoryLimit ? [r.memoryLimit] : []));
  const limited = limitedRuns[0];
  if (limited) {
    const peaks = limitedRuns.flatMap((l) => (l.cgroupPeakMiB === undefined ? [] : [l.cgroupPeakMiB]));
    const oomKills = limitedRuns.reduce((sum, l) => sum + (l.oomKills ?? 0), 0);
    out.push(
      "",
      `${limited.limitMiB} MiB runs: NODE_OPTIONS="${limited.nodeOptions}"; hard limit: ${limited.enforcedBy ?? `none (${limited.notEnforcedBecause})`}` +
        (peaks.length === 0
          ? ""
          : `; cgroup peak at most ${integer.format(Math.max(...peaks))} MiB over ${peaks.length} runs, OOM kills ${oomKills}`),
    );
  }
  const c = result.countingCheck;
  out.push(`request counting: emulator and client middleware agreed on ${c.agreed} of ${c.compared} runs`);
  if (result.targets.length > 0) {
    out.push(
      "",
      `Targets (this consumer, default settings, medians of this run)${result.mode === "quick" ? "; quick mode: sizes too small to judge them" : ""}`,
    );
    for (const t of result.targets) out.push(renderTargetLine(t));
  }
  return out.join("\n");
}

/** One target as a report line: `met `, `MISS` or `n/a ` (not measured), the value and the limit. */
export function renderTargetLine(t: TargetCheck): string {
  const mark = t.met === undefined ? "n/a " : t.met ? "met " : "MISS";
  return `  ${mark} ${t.description}: ${Number.isFinite(t.value) ? twoDecimals.format(t.value) : "not measured"} (target ${t.comparison} ${t.limit})`;
}
