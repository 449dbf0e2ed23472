// The benchmark's measurement definitions, on made-up numbers (no timing of anything real).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServedRequest } from "../harness";
import type { DrainRun } from "./drain-run";
import { idleRequestRate } from "./idle-run";
import { spread } from "./stats";
import { checkCounting } from "./summary";

const poll = (start: number, end: number | undefined): ServedRequest => ({ operation: "ReceiveMessage", start, end });

test("idle rate: back-to-back 20 s polls are 3 per minute per loop wherever a 45 s window falls", () => {
  const polls = Array.from({ length: 10 }, (_, i) => poll(i * 20_000, (i + 1) * 20_000));
  for (const from of [0, 1_000, 7_500, 19_999, 33_333]) {
    assert.ok(Math.abs(idleRequestRate(polls, from, from + 45_000, 1) - 3) < 1e-9, `window from ${from}`);
  }
});

test("idle rate: divided by receive loops; a poll still open at the window's end counts as lasting 20 s", () => {
  const twoLoops = [poll(0, 20_000), poll(5_000, 25_000), poll(20_000, undefined), poll(25_000, undefined)];
  assert.ok(Math.abs(idleRequestRate(twoLoops, 10_000, 30_000, 2) - 3) < 1e-9);
});

test("idle rate: short requests count whole, so busy polling shows", () => {
  const shortPolls = Array.from({ length: 60 }, (_, i) => poll(i * 1_000, i * 1_000 + 10));
  assert.ok(Math.abs(idleRequestRate(shortPolls, 0, 60_000, 1) - 60) < 1e-9);
  const instant: ServedRequest = { operation: "GetQueueAttributes", start: 1_000, end: 1_000 };
  assert.equal(idleRequestRate([instant], 0, 60_000, 1), 1);
  assert.equal(idleRequestRate([instant], 2_000, 60_000, 1), 0);
});

test("spread: median of odd and even counts, with min and max; non-finite values left out", () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  assert.deepEqual(spread([5, NaN]), { median: 5, min: 5, max: 5, n: 1 });
  assert.equal(spread([]).n, 0);
});

test("counting check: runs agree only when every operation's count matches", () => {
  const run = (emulator: Record<string, number>, client: Record<string, number> | undefined) =>
    ({
      scenario: "A",
      contestant: "raw-loop",
      repetition: 1,
      countsWhenQuiet: { emulator, client },
    }) as unknown as DrainRun;
  const check = checkCounting([
    run({ ReceiveMessage: 3, DeleteMessageBatch: 2 }, { ReceiveMessage: 3, DeleteMessageBatch: 2 }),
    run({ ReceiveMessage: 3 }, { ReceiveMessage: 3, DeleteMessageBatch: 1 }),
    run({ ReceiveMessage: 3 }, undefined),
  ]);
  assert.equal(check.compared, 2);
  assert.equal(check.agreed, 1);
  assert.deepEqual(check.disagreements[0]?.client, { ReceiveMessage: 3, DeleteMessageBatch: 1 });
});
