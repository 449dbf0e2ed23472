// Runs `npm run bench -- --quick --json` for real and checks that the result is complete and
// consistent. It asserts no timing: speed depends on the machine; completeness does not. This is the
// benchmark's quick run in CI: its progress and tables (stderr) are passed through to the test output.
// BENCH_HARNESS_SCENARIOS=T (any --scenario list) checks a subset the same way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { CONTESTANTS } from "./lineup";
import type { BenchResult } from "./report";

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const only = process.env.BENCH_HARNESS_SCENARIOS;

// Scenario H holds 10,000 messages for 35 s: on a loaded 2-core machine the quick run takes minutes.
test("the quick benchmark drains every queue completely and its counts add up", { timeout: 540_000 }, async (t) => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(__dirname, "run.ts"), "--quick", "--json", ...(only ? ["--scenario", only] : [])],
    { cwd: join(__dirname, ".."), stdio: ["ignore", "pipe", "inherit"], signal: t.signal },
  );
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  assert.equal(code, 0, `npm run bench -- --quick exited with code ${code}, signal ${signal}`);
  const result = JSON.parse(stdout) as BenchResult;
  assert.equal(result.mode, "quick");
  assert.ok(result.machine.cores > 0 && result.machine.cpuModel.length > 0);

  // Every scenario, contestant and repetition ran exactly once.
  const expected = result.plan.drains.flatMap((s) =>
    s.contestants.flatMap((c) => Array.from({ length: result.plan.repetitions }, (_, i) => `${s.id}/${c}/${i + 1}`)),
  );
  assert.deepEqual(
    result.runs.drains.map((r) => `${r.scenario}/${r.contestant}/${r.repetition}`).sort(),
    expected.sort(),
  );

  for (const run of result.runs.drains) {
    const name = `${run.scenario}/${run.contestant}`;
    const scenario = result.plan.drains.find((s) => s.id === run.scenario)!;
    assert.equal(run.messages, scenario.messages, name);
    assert.equal(run.messagesLeft, 0, `${name} left messages in the queue`);
    assert.equal(run.deadLettered, 0, `${name} dead-lettered messages`);
    assert.ok(
      Math.abs(run.requestsPerMessage * run.messages - total(run.requests)) < 1e-6,
      `${name}: requests per message`,
    );
    // At most 10 messages per receive and per delete call: fewer calls than that cannot have drained the queue.
    assert.ok((run.requests.ReceiveMessage ?? 0) >= run.messages / 10, `${name}: too few receives`);
    const deleted =
      run.contestant === "sqs-consumer"
        ? (run.requests.DeleteMessage ?? 0)
        : (run.requests.DeleteMessageBatch ?? 0) * 10;
    assert.ok(deleted >= run.messages, `${name}: too few deletes (${JSON.stringify(run.requests)})`);
    assert.ok(total(run.countsWhenQuiet.emulator) >= total(run.requests), `${name}: counts went down`);
    assert.equal(run.countsWhenQuiet.client !== undefined, CONTESTANTS[run.contestant].reportsClientCounts, name);
    for (const figure of [run.seconds, run.cpuMs, run.peakRssMiB, run.rssAtEndMiB, run.startToFirstReceiveMs])
      assert.ok(Number.isFinite(figure) && figure >= 0, name);
    assert.equal(run.rssAtSampleMiB !== undefined, scenario.rssSampleAfter !== undefined, name);
    assert.equal(run.memoryLimit !== undefined, CONTESTANTS[run.contestant].memoryLimitMiB !== undefined, name);
    // Scenario T: the traced run's spans reached the receiver, readable, no more than the consumer
    // ended; with the sampler always_off none did.
    const tracing = CONTESTANTS[run.contestant].tracing;
    assert.equal(run.spans !== undefined, tracing !== undefined, name);
    if (run.spans) {
      assert.equal(run.spans.unreadable, 0, `${name}: export requests the receiver could not read`);
      assert.ok(run.spans.ended >= run.messages, `${name}: fewer spans ended than messages`);
      if (tracing === "export")
        assert.ok(
          run.spans.exported > 0 && run.spans.exported <= run.spans.ended,
          `${name}: spans ${JSON.stringify(run.spans)}`,
        );
      else
        assert.deepEqual(
          [run.spans.exported, run.spans.exportRequests],
          [0, 0],
          `${name}: spans exported with the sampler always_off`,
        );
    }
  }
  // Where both count, the emulator and the client middleware saw the same requests.
  assert.equal(
    result.countingCheck.compared,
    result.runs.drains.filter((r) => CONTESTANTS[r.contestant].reportsClientCounts).length,
  );
  assert.deepEqual(result.countingCheck.disagreements, []);

  const idle = result.plan.idle ?? { contestants: [] };
  assert.equal(result.runs.idle.length, idle.contestants.length * result.plan.repetitions);
  for (const run of result.runs.idle) {
    assert.ok(
      (run.windowRequests.ReceiveMessage ?? 0) >= run.receiveLoops,
      `${run.contestant} had no poll open in the window`,
    );
    assert.ok(Number.isFinite(run.requestsPerMinutePerLoop) && run.requestsPerMinutePerLoop > 0, run.contestant);
  }

  // Scenario H held every message until handled, and the heartbeat reported its passes.
  assert.equal(result.runs.heartbeat !== undefined, result.plan.heartbeat !== undefined);
  const heartbeat = result.runs.heartbeat;
  if (heartbeat) {
    assert.equal(heartbeat.messages, result.plan.heartbeat!.messages);
    assert.equal(
      heartbeat.handled,
      heartbeat.messages + heartbeat.redelivered,
      "every message handled (a lapsed one twice)",
    );
    assert.equal(heartbeat.messagesLeft + heartbeat.deadLettered, 0, "scenario H left messages behind");
    assert.ok(
      heartbeat.passes > 0 && heartbeat.extensions >= heartbeat.messages,
      "the heartbeat extended every message at least once",
    );
    assert.ok(heartbeat.visibilityCalls >= heartbeat.extensions / 10, "fewer visibility calls than extensions / 10");
  }

  for (const byContestant of Object.values(result.summary.drains)) {
    for (const figures of Object.values(byContestant)) {
      for (const s of [figures.messagesPerSecond, figures.requestsPerMessage, figures.cpuMsPer1000Messages])
        assert.ok(s.min <= s.median && s.median <= s.max);
    }
  }
  // Every target of the scenarios run was measured (whether it was met is the report's business, not
  // the test's); a target's id starts with its scenario.
  assert.equal(result.targets.length, 16);
  const ran = new Set<string>([...result.plan.drains.map((d) => d.id), ...(result.plan.idle ? ["C"] : [])]);
  assert.deepEqual(
    result.targets.filter((t) => ran.has(t.id[0]!) && t.met === undefined).map((t) => t.id),
    [],
  );
  if (!only) assert.equal(ran.size, 7, "the full quick run covers A, B, P, C, D, M and T");
});
