// From individual runs to the figures the report shows: medians with min-max per contestant and scenario.
import type { DrainRun } from "./drain-run";
import type { IdleRun } from "./idle-run";
import type { ContestantId } from "./lineup";
import type { DrainScenarioId } from "./scenarios";
import { spread, type Spread } from "./stats";

export interface DrainFigures {
  readonly messagesPerSecond: Spread;
  readonly requestsPerMessage: Spread;
  readonly cpuMsPer1000Messages: Spread;
  readonly peakRssMiB: Spread;
  readonly startToFirstReceiveMs: Spread;
  /** RSS at the end over RSS at the sample point (runs with a sample point only). */
  readonly rssEndOverSample: Spread | undefined;
  /** Spans the OTLP receiver counted, and spans the consumer ended (traced contestants only). */
  readonly spansExported: Spread | undefined;
  readonly spansEnded: Spread | undefined;
}

export interface IdleFigures {
  readonly receiveLoops: number;
  readonly requestsPerMinutePerLoop: Spread;
}

export type DrainSummary = Partial<Record<DrainScenarioId, Partial<Record<ContestantId, DrainFigures>>>>;
export type IdleSummary = Partial<Record<ContestantId, IdleFigures>>;

/** Whether the two ways of counting requests agree, on every run where both apply. */
export interface CountingCheck {
  readonly compared: number;
  readonly agreed: number;
  readonly disagreements: readonly {
    readonly run: string;
    readonly emulator: Record<string, number>;
    readonly client: Record<string, number>;
  }[];
}

function groupBy<T, K extends string>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

export function summarizeDrains(runs: readonly DrainRun[]): DrainSummary {
  const summary: DrainSummary = {};
  for (const [scenario, ofScenario] of groupBy(runs, (r) => r.scenario)) {
    const byContestant: Partial<Record<ContestantId, DrainFigures>> = {};
    for (const [contestant, group] of groupBy(ofScenario, (r) => r.contestant)) {
      const sampled = group.filter((r) => r.rssAtSampleMiB !== undefined);
      const traced = group.flatMap((r) => (r.spans ? [r.spans] : []));
      byContestant[contestant] = {
        messagesPerSecond: spread(group.map((r) => r.messagesPerSecond)),
        requestsPerMessage: spread(group.map((r) => r.requestsPerMessage)),
        cpuMsPer1000Messages: spread(group.map((r) => r.cpuMsPer1000Messages)),
        peakRssMiB: spread(group.map((r) => r.peakRssMiB)),
        startToFirstReceiveMs: spread(group.map((r) => r.startToFirstReceiveMs)),
        rssEndOverSample:
          sampled.length > 0 ? spread(sampled.map((r) => r.rssAtEndMiB / r.rssAtSampleMiB!)) : undefined,
        spansExported: traced.length > 0 ? spread(traced.map((s) => s.exported)) : undefined,
        spansEnded: traced.length > 0 ? spread(traced.map((s) => s.ended)) : undefined,
      };
    }
    summary[scenario] = byContestant;
  }
  return summary;
}

export function summarizeIdle(runs: readonly IdleRun[]): IdleSummary {
  const summary: IdleSummary = {};
  for (const [contestant, group] of groupBy(runs, (r) => r.contestant)) {
    summary[contestant] = {
      receiveLoops: group[0]!.receiveLoops,
      requestsPerMinutePerLoop: spread(group.map((r) => r.requestsPerMinutePerLoop)),
    };
  }
  return summary;
}

export function checkCounting(runs: readonly DrainRun[]): CountingCheck {
  const compared = runs.filter((r) => r.countsWhenQuiet.client !== undefined);
  const same = (a: Record<string, number>, b: Record<string, number>): boolean =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].every((op) => (a[op] ?? 0) === (b[op] ?? 0));
  const disagreements = compared
    .filter((r) => !same(r.countsWhenQuiet.emulator, r.countsWhenQuiet.client!))
    .map((r) => ({
      run: `${r.scenario}/${r.contestant}/r${r.repetition}`,
      emulator: r.countsWhenQuiet.emulator,
      client: r.countsWhenQuiet.client!,
    }));
  return { compared: compared.length, agreed: compared.length - disagreements.length, disagreements };
}
