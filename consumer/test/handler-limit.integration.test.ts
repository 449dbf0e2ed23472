// The handler timeout is a hard limit: HANDLER_CONCURRENCY counts every handler invocation that has not
// settled (timed-out ones included), a message is never handled twice at once in one process, and
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

  test("a timed-out message that comes back while its first invocation still runs is not handled again until that settles", async () => {
    const bed = await startTestBed();
    beds.push(bed);
    const counter = new InvocationCounter();
    const { running, logs } = await startTestConsumer(bed, {
      env: { HANDLER_CONCURRENCY: "5", HANDLER_TIMEOUT_SECONDS: "1", RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
      // The first invocation ignores its signal and settles after 4 s; the message is back after 1 s.
      handler: (message) =>
        counter.track(message.messageId, () =>
          counter.calls === 1 ? sleep(4_000).then(() => undefined) : Promise.resolve(),
        ),
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["slow"]);
      await eventually(() => counter.calls >= 1, 5_000, "the first invocation");
      await sleep(2_000);
      assert.equal(
        (await probe(running.healthPort, "/livez")).status,
        200,
        "one abandoned handler of 5 slots is within the limit",
      );
      await eventually(
        async () =>
          counter.calls >= 2 &&
          (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0 &&
          counter.running === 0,
        20_000,
        "the message handled again",
      );
      assert.equal(counter.maxSameMessage, 1, "the same message was handled twice at once");
      const duplicate = await logs.waitFor(
        (l) => l.event === "duplicate-delivery",
        1_000,
        "the redelivery while the first run went on",
      );
      assert.equal(duplicate.receiveCount, 2);
      assert.match(
        (await probe(running.healthPort, "/metrics")).body,
        /^sqs_consumer_duplicate_deliveries_total\{state="abandoned"\} [1-9]/m,
      );
    } finally {
      await running.stop();
    }
  });
});
