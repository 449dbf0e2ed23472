// A handler that blocks the event loop for longer than the visibility timeout: the consumer cannot
// prevent the lapse, but it reports the stall and counts the lapse it finds afterwards.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

/** Computes without yielding for `ms`: what a CPU-bound handler does to the event loop. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

/** The value of a counter series on /metrics (0 when absent), e.g. `sqs_consumer_event_loop_stalls_total`. */
async function counter(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const [name, value] = line.split(" ");
    if (name === series || name?.startsWith(`${series}{`)) sum += Number(value);
  }
  return sum;
}

describe("a blocked event loop is reported", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));

  test("a handler computing 7 s with a 5 s visibility timeout: a stall warning, the stall and the lapse counted", async () => {
    const bed = await startTestBed({ maxReceiveCount: 5 });
    beds.push(bed);
    const deliveries: number[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "5", HANDLER_TIMEOUT_SECONDS: "30", WAIT_TIME_SECONDS: "1" },
      handler: (message) => {
        deliveries.push(message.receiveCount);
        if (message.receiveCount === 1) blockFor(7_000);
        return Promise.resolve();
      },
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["cpu-bound"]);
      const stalled = await logs.waitFor((l) => l.event === "event-loop-stalled", 20_000, "the stall warning");
      assert.equal(stalled.level, "warn");
      assert.ok((stalled.stallMs as number) >= 6_000, `stall measured ${String(stalled.stallMs)} ms`);
      assert.match(stalled.msg, /worker thread/);
      await eventually(
        async () => (await counter(running.healthPort, "sqs_consumer_visibility_lapses_total")) >= 1,
        10_000,
        "a visibility lapse counted",
      );
      assert.equal(await counter(running.healthPort, "sqs_consumer_event_loop_stalls_total"), 1);
      const lapse = logs.find((l) => l.event === "visibility-lapsed");
      assert.ok(lapse.length >= 1, "the lapse is logged");
      assert.ok(
        lapse.every((l) => ["late-settle", "received-again", "receipt-handle"].includes(l.detected as string)),
        JSON.stringify(lapse),
      );
    } finally {
      await running.stop();
    }
  });
});
