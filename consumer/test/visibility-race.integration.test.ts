// The visibility heartbeat never races the consumer's own deletes and visibility changes: a pass in
// flight cannot undo a failure's retry delay or a shutdown change, nor fail on a message just deleted.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EmulatorApp } from "../local/emulator";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface VisibilityCall {
  /** VisibilityTimeout of each entry, in seconds. */
  readonly seconds: number[];
}

/**
 * Holds every ChangeMessageVisibilityBatch at the emulator for `delayMs(call)` before the emulator
 * applies it (a slow network or a busy SQS), telling `onArrive` when one arrives and recording, in
 * `applied`, the order in which the emulator applied them.
 */
function slowVisibilityCalls(
  delayMs: (call: VisibilityCall) => number,
  applied: VisibilityCall[],
  onArrive: (call: VisibilityCall) => void = () => undefined,
) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", async (request) => {
      if (request.headers["x-amz-target"] !== "AmazonSQS.ChangeMessageVisibilityBatch") return;
      const call = {
        seconds: (request.body as { Entries: { VisibilityTimeout: number }[] }).Entries.map((e) => e.VisibilityTimeout),
      };
      onArrive(call);
      await sleep(delayMs(call));
      applied.push(call);
    });
  };
}

/** Changes for a failure or at shutdown ask for a retry delay (3 s here) or 0; heartbeat extensions for the visibility timeout (6 s). */
const isExtension = (call: VisibilityCall): boolean => call.seconds.some((s) => s >= 5);

describe("the visibility heartbeat never races", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));

  test("40 messages, handlers 2.6-4.6 s, visibility 6 s, every visibility call 400 ms late: no false visibility-failed warnings", async () => {
    const applied: VisibilityCall[] = [];
    const bed = await startTestBed({ configure: slowVisibilityCalls(() => 400, applied) });
    beds.push(bed);
    const handled = new Map<string, number>();
    const { running, logs } = await startTestConsumer(bed, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "6", HANDLER_TIMEOUT_SECONDS: "30", WAIT_TIME_SECONDS: "1" },
      handler: async (message) => {
        const i = Number(message.body);
        await sleep(2_600 + i * 50);
        handled.set(message.body, (handled.get(message.body) ?? 0) + 1);
      },
    });
    try {
      await sendMessages(
        bed.sqs,
        bed.queue.queueUrl,
        Array.from({ length: 40 }, (_, i) => String(i)),
      );
      await eventually(
        async () => handled.size === 40 && (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        30_000,
        "every message handled and deleted",
      );
      await sleep(1_000);
      assert.ok(applied.length > 0, "the heartbeat extended nothing: the test did not exercise the race");
      const warnings = logs.find((l) => l.event === "visibility-failed");
      assert.equal(
        warnings.length,
        0,
        `false warnings for messages already deleted:\n${warnings.map((w) => JSON.stringify(w)).join("\n")}`,
      );
      assert.deepEqual(
        [...handled.values()].filter((n) => n !== 1),
        [],
        "a message was handled twice",
      );
    } finally {
      await running.stop();
    }
  });

  test("a failure's retry delay is applied after an extension already on its way, never undone by it", async () => {
    const applied: VisibilityCall[] = [];
    let extensionArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (extensionArrived = resolve));
    const bed = await startTestBed({
      configure: slowVisibilityCalls(
        (call) => (isExtension(call) ? 1_500 : 0),
        applied,
        (call) => isExtension(call) && extensionArrived(),
      ),
    });
    beds.push(bed);
    let calls = 0;
    const { running } = await startTestConsumer(bed, {
      env: {
        VISIBILITY_TIMEOUT_SECONDS: "6",
        HANDLER_TIMEOUT_SECONDS: "30",
        RETRY_BASE_SECONDS: "3",
        WAIT_TIME_SECONDS: "1",
      },
      // The first run fails while the heartbeat's extension of its message is on its way (answered
      // 1.5 s later, inside the 3 s retry delay: applied after the change, it would hide the message 6 s).
      handler: async () => {
        if (++calls > 1) return;
        await arrived;
        throw new Error("failed while an extension was in flight");
      },
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["one"]);
      await eventually(() => calls === 2, 20_000, "the redelivery");
      const last = applied.at(-1)!;
      assert.deepEqual(
        last.seconds,
        [3],
        `the last visibility change before the redelivery was ${JSON.stringify(last.seconds)}: the extension undid the retry delay (applied: ${JSON.stringify(applied)})`,
      );
    } finally {
      await running.stop();
    }
  });

  test("a shutdown change is applied after an extension already on its way, never undone by it", async () => {
    const applied: VisibilityCall[] = [];
    let extensionArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (extensionArrived = resolve));
    // Shutdown (budget 4 s) gives up on handlers after 3 s and changes their visibility; the extension is answered after 3.4 s.
    const bed = await startTestBed({
      configure: slowVisibilityCalls(
        (call) => (isExtension(call) ? 3_400 : 0),
        applied,
        (call) => isExtension(call) && extensionArrived(),
      ),
    });
    beds.push(bed);
    const { running } = await startTestConsumer(bed, {
      env: {
        VISIBILITY_TIMEOUT_SECONDS: "6",
        HANDLER_TIMEOUT_SECONDS: "30",
        SHUTDOWN_BUDGET_SECONDS: "4",
        WAIT_TIME_SECONDS: "1",
      },
      handler: (_message, { signal }) =>
        new Promise<void>((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }),
        ),
    });
    let stopped = false;
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["held at shutdown"]);
      await arrived;
      await running.stop();
      stopped = true;
      await eventually(() => applied.some(isExtension), 5_000, "the extension to be applied");
      assert.deepEqual(
        applied.at(-1)!.seconds,
        [0],
        `the extension was applied after the shutdown change (applied: ${JSON.stringify(applied)})`,
      );
      assert.deepEqual(
        await queueCounts(bed.sqs, bed.queue.queueUrl),
        { visible: 1, inFlight: 0 },
        "the message is not visible again after shutdown",
      );
    } finally {
      if (!stopped) await running.stop();
    }
  });
});
