// The handler timeout is a hard limit: HANDLER_CONCURRENCY counts every handler invocation that has not
// settled (timed-out ones included), a message is never handled twice at once in one process, a handler
// that ignores its signal keeps its messages hidden until it settles and is judged by its outcome, and
// /livez fails once abandoned handlers hold more than half of the slots.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { probe } from "./helpers/consumer-process";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

/** Counts handler invocations that started and have not settled, overall and per message. */
class InvocationCounter {
  running = 0;
  maxRunning = 0;
  maxSameMessage = 0;
  calls = 0;
  readonly handled = new Set<string>();
  private readonly perMessage = new Map<string, number>();

  /** Wraps a body of work so every invocation is counted from its start until its promise settles. */
  track(messageId: string, work: () => Promise<void>): Promise<void> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const same = (this.perMessage.get(messageId) ?? 0) + 1;
    this.perMessage.set(messageId, same);
    this.maxSameMessage = Math.max(this.maxSameMessage, same);
    return work().finally(() => {
      this.running--;
      this.perMessage.set(messageId, this.perMessage.get(messageId)! - 1);
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the handler timeout is a hard limit", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));

  test("HANDLER_CONCURRENCY=1, timeout 1 s, a handler that never settles, 10 messages: one running handler, /livez fails, recovery when it settles", async () => {
    const bed = await startTestBed();
    beds.push(bed);
    const counter = new InvocationCounter();
    let stuck = true;
    const waiting: (() => void)[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: {
        HANDLER_CONCURRENCY: "1",
        HANDLER_TIMEOUT_SECONDS: "1",
        RETRY_BASE_SECONDS: "1",
        RECEIVE_LOOPS: "2",
        WAIT_TIME_SECONDS: "1",
      },
      // Ignores its abort signal: it settles only when the test lets it.
      handler: (message) =>
        counter.track(message.messageId, () =>
          (stuck ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()).then(
            () => void counter.handled.add(message.body),
          ),
        ),
    });
    try {
      await sendMessages(
        bed.sqs,
        bed.queue.queueUrl,
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      await eventually(() => counter.calls >= 1, 5_000, "the first invocation");
      // Past several timeouts and retry delays: were the limit soft, a new invocation would start every second.
      await sleep(5_000);
      assert.equal(
        counter.maxRunning,
        1,
        `${counter.maxRunning} handler invocations ran at once with HANDLER_CONCURRENCY=1`,
      );
      assert.equal(counter.calls, 1);
      await logs.waitFor((l) => l.event === "handler-abandoned", 1_000, "the abandoned handler");
      const livez = await probe(running.healthPort, "/livez");
      assert.equal(livez.status, 503);
      assert.match(livez.body, /1 handler\(s\) ignored their abort signal.*limit 0/);
      assert.match((await probe(running.healthPort, "/metrics")).body, /^sqs_consumer_handlers_abandoned 1$/m);

      stuck = false;
      for (const resolve of waiting.splice(0)) resolve();
      await eventually(
        async () => (await probe(running.healthPort, "/livez")).status === 200,
        5_000,
        "/livez to recover",
      );
      await logs.waitFor((l) => l.event === "abandoned-handler-settled", 1_000);
      await eventually(() => counter.handled.size === 10, 20_000, "every message handled once the slot is free");
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        10_000,
        "the deletes",
      );
      assert.equal(counter.maxRunning, 1);
    } finally {
      for (const resolve of waiting.splice(0)) resolve();
      await running.stop();
    }
  });

  // An unchanged Lambda handler never reads its signal. Abandoned at its limit, it still runs; were its
  // messages let go, each redelivery would burn a receive toward maxReceiveCount while it runs, and a
  // handler that then succeeds would find its messages in the DLQ. They stay hidden until it settles.
  for (const form of ["handleMessage", "handleBatch"] as const) {
    test(`${form} that ignores its signal and succeeds 6 s after its 1 s limit: called once, its message deleted, never received again, nothing in the DLQ (maxReceiveCount 2)`, async () => {
      const bed = await startTestBed({ maxReceiveCount: 2 });
      beds.push(bed);
      const counter = new InvocationCounter();
      const work = (id: string) => counter.track(id, () => sleep(7_000).then(() => undefined));
      const { running, logs } = await startTestConsumer(bed, {
        env: {
          HANDLER_CONCURRENCY: "5",
          HANDLER_TIMEOUT_SECONDS: "1",
          VISIBILITY_TIMEOUT_SECONDS: "5",
          RETRY_BASE_SECONDS: "1",
          WAIT_TIME_SECONDS: "1",
        },
        ...(form === "handleMessage"
          ? { handler: (message) => work(message.messageId) }
          : {
              batchHandler: async (event) => {
                await work(event.Records[0]!.messageId);
                return { batchItemFailures: [] };
              },
            }),
      });
      try {
        await sendMessages(bed.sqs, bed.queue.queueUrl, ["slow"]);
        await logs.waitFor((l) => l.event === "handler-abandoned", 5_000, "the abandoned handler");
        await logs.waitFor((l) => l.event === "abandoned-handler-settled", 10_000, "the abandoned handler to settle");
        await eventually(
          async () => {
            const counts = await queueCounts(bed.sqs, bed.queue.queueUrl);
            return counts.visible === 0 && counts.inFlight === 0;
          },
          5_000,
          "its message deleted",
        );
        assert.equal(counter.calls, 1, "the handler was called again for the same message");
        assert.deepEqual(await queueCounts(bed.sqs, bed.queue.dlqUrl), { visible: 0, inFlight: 0 }, "DLQ");
        assert.equal(
          logs.lines.filter((l) => l.event === "duplicate-delivery" || l.event === "handler-failed").length,
          0,
          "received again, or settled as failed, while the handler ran",
        );
        assert.match((await probe(running.healthPort, "/metrics")).body, /^sqs_consumer_messages_deleted_total 1$/m);
      } finally {
        await running.stop();
      }
    });
  }

  test("a handler that ignores its signal and fails after its limit: its message is delivered again after it settles, not before", async () => {
    const bed = await startTestBed();
    beds.push(bed);
    const counter = new InvocationCounter();
    const starts: number[] = [];
    let settledAt = 0;
    const { running, logs } = await startTestConsumer(bed, {
      env: {
        HANDLER_CONCURRENCY: "5",
        HANDLER_TIMEOUT_SECONDS: "1",
        VISIBILITY_TIMEOUT_SECONDS: "5",
        RETRY_BASE_SECONDS: "1",
        WAIT_TIME_SECONDS: "1",
      },
      handler: (message) =>
        counter.track(message.messageId, async () => {
          starts.push(Date.now());
          if (counter.calls > 1) return;
          await sleep(4_000);
          settledAt = Date.now();
          throw new Error("failed late");
        }),
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["late failure"]);
      await eventually(() => counter.calls === 2 && counter.running === 0, 15_000, "the second delivery");
      assert.ok(starts[1]! >= settledAt, "delivered again before the first run settled");
      assert.equal(counter.maxSameMessage, 1);
      const failed = await logs.waitFor((l) => l.event === "handler-failed", 1_000, "the late failure");
      assert.equal(failed.receiveCount, 1);
      assert.equal(failed.reason, "error");
    } finally {
      await running.stop();
    }
  });
});
