// Scenario C: contestants on empty queues, all side by side (idle processes barely use the CPU), and
// their SQS requests counted over a window, as requests per minute per receive loop.
import { createRunQueue, deleteRunQueue, withTimeout, type ServedRequest } from "../harness";
import type { ContestantId } from "./lineup";
import { CONTESTANTS } from "./lineup";
import { WAIT_TIME_SECONDS } from "./contestants/common";
import type { BenchContext } from "./drain-run";
import { countByOperation } from "./drain-run";
import type { RequestCounts } from "./request-counter";
import type { IdleScenario } from "./scenarios";
import { spawnContestant, type ContestantProcess } from "./spawn-contestant";
import type { QueuePair } from "../consumer/local/emulator";

const FIRST_RECEIVE_TIMEOUT_MS = 30_000;

export interface IdleRun {
  readonly contestant: ContestantId;
  readonly repetition: number;
  readonly receiveLoops: number;
  readonly windowSeconds: number;
  /** Requests started before the window: start-up calls (first polls, queue checks). */
  readonly startupRequests: RequestCounts;
  /** Requests that overlap the window, by operation. */
  readonly windowRequests: RequestCounts;
  readonly requestsPerMinutePerLoop: number;
}

/**
 * Requests per minute per receive loop over [from, to]. A long poll lasts 20 s, so whole-request
 * counts over a 45 s window depend on where the window falls (2 or 3 polls per loop). Each request
 * therefore counts by the share of its duration that lies inside the window; one still open at the
 * end counts as lasting at least the long-poll wait, which is how long an idle ReceiveMessage lasts.
 */
export function idleRequestRate(
  requests: readonly ServedRequest[],
  from: number,
  to: number,
  receiveLoops: number,
): number {
  let weight = 0;
  for (const r of requests) {
    const minimum = r.operation === "ReceiveMessage" && r.end === undefined ? WAIT_TIME_SECONDS * 1000 : 0;
    const end = r.end ?? to;
    const duration = Math.max(end - r.start, minimum);
    if (duration === 0) {
      if (r.start >= from && r.start <= to) weight += 1;
      continue;
    }
    const overlap = Math.min(end, to) - Math.max(r.start, from);
    if (overlap > 0) weight += overlap / duration;
  }
  return (weight / receiveLoops / (to - from)) * 60_000;
}

export async function runIdle(ctx: BenchContext, scenario: IdleScenario, repetitions: number): Promise<IdleRun[]> {
  const runs: {
    contestant: ContestantId;
    repetition: number;
    key: string;
    queue: QueuePair;
    proc?: ContestantProcess;
  }[] = [];
  try {
    for (let repetition = 1; repetition <= repetitions; repetition++) {
      for (const contestant of scenario.contestants) {
        const key = `C-${contestant}-r${repetition}`;
        runs.push({ contestant, repetition, key, queue: await createRunQueue(ctx.setup, `bench-${key}`) });
      }
    }
    const windows = runs.map((run) => {
      const watch = ctx.emulator.watch(run.key, `bench-${run.key}`, []);
      run.proc = spawnContestant(CONTESTANTS[run.contestant], {
        bundles: ctx.bundles,
        endpoint: ctx.emulator.endpoint,
        homeDir: ctx.homeDir,
        queueUrl: run.queue.queueUrl,
        accessKeyId: run.key,
        work: "none",
      });
      return withTimeout(
        Promise.race([watch.firstReceive, run.proc.failed]),
        FIRST_RECEIVE_TIMEOUT_MS,
        `${run.key}'s first receive`,
      ).then((first) => {
        const from = first + scenario.settleSeconds * 1000;
        return { from, to: from + scenario.windowSeconds * 1000 };
      });
    });
    const resolved = await Promise.all(windows);
    const lastEnd = Math.max(...resolved.map((w) => w.to));
    await withTimeout(
      Promise.race([
        new Promise((resolve) => setTimeout(resolve, lastEnd - Date.now() + 50)),
        ...runs.map((r) => r.proc!.failed),
      ]),
      lastEnd - Date.now() + 10_000,
      "the idle window",
    );
    const results: IdleRun[] = [];
    for (const [i, run] of runs.entries()) {
      const { from, to } = resolved[i]!;
      const served = await ctx.emulator.requests(run.key);
      const loops = CONTESTANTS[run.contestant].receiveLoops;
      results.push({
        contestant: run.contestant,
        repetition: run.repetition,
        receiveLoops: loops,
        windowSeconds: scenario.windowSeconds,
        startupRequests: countByOperation(served.filter((r) => r.start < from && (r.end ?? to) <= from)),
        windowRequests: countByOperation(served.filter((r) => r.start <= to && (r.end ?? to) >= from)),
        requestsPerMinutePerLoop: idleRequestRate(served, from, to, loops),
      });
    }
    return results;
  } finally {
    await Promise.all(runs.flatMap((run) => (run.proc ? [run.proc.stop()] : [])));
    for (const run of runs) {
      ctx.emulator.forget(run.key);
      await deleteRunQueue(ctx.setup, run.queue);
    }
  }
}
