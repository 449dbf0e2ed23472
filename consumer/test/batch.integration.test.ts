// A batch handler (the Lambda form) against the emulator: partial batch responses as Lambda reads them,
// batch size and window, the hard limit, the visibility heartbeat, HANDLER_CONCURRENCY and shutdown
// applied to a batch as to a message; the records it is handed against the test helper's; and on a FIFO
// queue (the FIFO stand-in) a group's order across batches and failures.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReceiveMessageCommand, SendMessageCommand, type MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { BatchHandler } from "../src/handler";
import { sqsEvent } from "../src/testing";
import { startFifoTestBed, type FifoTestBed } from "./helpers/fifo-test-bed";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bodies of a batch's records, in order. */
const bodies = (event: SQSEvent) => event.Records.map((record) => record.body);

describe("a batch handler on a standard queue", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((bed) => bed.close())));
  const bed = async () => {
    const created = await startTestBed({ handlerTimeoutSeconds: 1 });
    beds.push(created);
    return created;
  };

  test("partial batch response: the listed messages are delivered again, the rest deleted", async () => {
    const b = await bed();
    const seen = new Map<string, number[]>();
    const handleBatch: BatchHandler = (event) => {
      const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
      for (const record of event.Records) {
        const counts = seen.get(record.body) ?? [];
        counts.push(Number(record.attributes.ApproximateReceiveCount));
        seen.set(record.body, counts);
        if (record.body.startsWith("fail") && counts.length === 1)
          batchItemFailures.push({ itemIdentifier: record.messageId });
      }
      return Promise.resolve({ batchItemFailures });
    };
    const { running, logs } = await startTestConsumer(b, {
      env: { BATCH_SIZE: "10", BATCH_WINDOW_SECONDS: "1", RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
      batchHandler: handleBatch,
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["ok-1", "fail-1", "ok-2", "fail-2", "ok-3"]);
      await eventually(
        () => seen.get("fail-1")?.length === 2 && seen.get("fail-2")?.length === 2,
        10_000,
        "redelivery",
      );
      await eventually(async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0, 5_000, "deletes");
      for (const ok of ["ok-1", "ok-2", "ok-3"]) assert.deepEqual(seen.get(ok), [1], `${ok} was handled once`);
      for (const failed of ["fail-1", "fail-2"]) assert.deepEqual(seen.get(failed), [1, 2], `${failed} came back`);
      assert.deepEqual(await queueCounts(b.sqs, b.queue.queueUrl), { visible: 0, inFlight: 0 });
      const warnings = logs.find((l) => l.event === "handler-failed");
      assert.equal(warnings.length, 2, "one warning per listed message");
      assert.match(String(warnings[0]!.msg), /listed this message in batchItemFailures/);
    } finally {
      await running.stop();
    }
  });

  test("a throw, or an answer Lambda would not accept (an empty or unknown itemIdentifier), delivers the whole batch again", async () => {
    for (const [name, answer] of [
      ["throw", "throw"],
      ["empty itemIdentifier", { batchItemFailures: [{ itemIdentifier: "" }] }],
      ["unknown itemIdentifier", { batchItemFailures: [{ itemIdentifier: "not-a-message-of-this-batch" }] }],
    ] as const) {
      const b = await bed();
      const calls: string[][] = [];
      const { running, logs } = await startTestConsumer(b, {
        env: { BATCH_SIZE: "3", BATCH_WINDOW_SECONDS: "1", RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
        batchHandler: (event) => {
          calls.push(bodies(event).sort());
          if (calls.length > 1) return Promise.resolve();
          if (answer === "throw") return Promise.reject(new Error("downstream is down"));
          return Promise.resolve(answer as unknown as SQSBatchResponse);
        },
      });
      try {
        await sendMessages(b.sqs, b.queue.queueUrl, ["a", "b", "c"]);
        await eventually(() => calls.flat().length >= 6, 10_000, `${name}: the batch again`);
        assert.deepEqual(calls[0], ["a", "b", "c"], name);
        assert.deepEqual(calls.slice(1).flat().sort(), ["a", "b", "c"], `${name}: every message came back`);
        const warning = logs.find((l) => l.event === "handler-failed")[0]!;
        assert.match(String(warning.msg), /every message of the batch will be delivered again/, name);
        if (answer !== "throw")
          assert.equal(
            (warning.err as { code?: string }).code,
            "BatchAnswerInvalid",
            `${name}: ${JSON.stringify(warning)}`,
          );
        await eventually(async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0, 5_000, "deletes");
      } finally {
        await running.stop();
      }
    }
  });

  test("BATCH_SIZE and BATCH_WINDOW_SECONDS: one receive brings at most 10, a batch of 25 is gathered over the window", async () => {
    const b = await bed();
    const sizes: number[] = [];
    await sendMessages(
      b.sqs,
      b.queue.queueUrl,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const { running } = await startTestConsumer(b, {
      env: { BATCH_SIZE: "25", BATCH_WINDOW_SECONDS: "2", RECEIVE_LOOPS: "2" },
      batchHandler: (event) => {
        sizes.push(event.Records.length);
        return Promise.resolve();
      },
    });
    try {
      await eventually(() => sizes.reduce((a, n) => a + n, 0) === 25, 10_000, "25 messages handled");
      assert.ok(Math.max(...sizes) > 10, `batches of ${sizes.join(", ")}: none gathered more than one receive`);
      assert.ok(Math.max(...sizes) <= 25);
    } finally {
      await running.stop();
    }
  });

  test("BATCH_SIZE above HANDLER_CONCURRENCY: a start-up warning says batches hold at most HANDLER_CONCURRENCY messages", async () => {
    const b = await bed();
    const { running, logs } = await startTestConsumer(b, {
      env: { BATCH_SIZE: "10", HANDLER_CONCURRENCY: "4" },
      batchHandler: () => Promise.resolve(),
    });
    try {
      const warning = await logs.waitFor(
        (l) => l.event === "config" && l.level === "warn" && l.batchSize === 10,
        1_000,
        "the warning",
      );
      assert.match(String(warning.msg), /^BATCH_SIZE 10 is above HANDLER_CONCURRENCY 4: .*at most 4 messages per call/);
    } finally {
      await running.stop();
    }
  });

  test("the hard limit applies to a batch: at HANDLER_TIMEOUT_SECONDS its signal aborts and every message becomes visible again", async () => {
    const b = await bed();
    const calls: { bodies: string[]; remainingMs: number; reason?: unknown }[] = [];
    const { running, logs } = await startTestConsumer(b, {
      env: {
        HANDLER_TIMEOUT_SECONDS: "1",
        BATCH_SIZE: "2",
        BATCH_WINDOW_SECONDS: "1",
        RETRY_BASE_SECONDS: "1",
        WAIT_TIME_SECONDS: "1",
      },
      batchHandler: (event, context) => {
        const call = { bodies: bodies(event).sort(), remainingMs: context.getRemainingTimeInMillis() };
        calls.push(call);
        if (calls.length > 1) return Promise.resolve();
        return new Promise((resolve) =>
          context.signal.addEventListener("abort", () => {
            Object.assign(call, { reason: context.signal.reason as unknown });
            resolve();
          }),
        );
      },
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["x", "y"]);
      await eventually(() => calls.length >= 2, 10_000, "the batch again after its timeout");
      assert.deepEqual(calls[0]!.bodies, ["x", "y"]);
      assert.ok(calls[0]!.remainingMs <= 1_000 && calls[0]!.remainingMs > 500, `${calls[0]!.remainingMs} ms left`);
      assert.equal((calls[0]!.reason as { code?: string }).code, "HandlerTimeout");
      assert.deepEqual(
        calls
          .slice(1)
          .flatMap((c) => c.bodies)
          .sort(),
        ["x", "y"],
      );
      assert.equal(logs.find((l) => l.event === "handler-failed" && l.reason === "timeout").length, 2);
    } finally {
      await running.stop();
    }
  });

  test("the heartbeat keeps a batch's messages invisible while it gathers and while it runs, past the visibility timeout", async () => {
    const b = await startTestBed({ handlerTimeoutSeconds: 30 });
    beds.push(b);
    const calls: { bodies: string[]; receiveCounts: string[] }[] = [];
    const { running, logs } = await startTestConsumer(b, {
      env: {
        VISIBILITY_TIMEOUT_SECONDS: "5",
        BATCH_SIZE: "5",
        BATCH_WINDOW_SECONDS: "7",
        HANDLER_TIMEOUT_SECONDS: "30",
        WAIT_TIME_SECONDS: "1",
      },
      batchHandler: async (event) => {
        calls.push({
          bodies: bodies(event),
          receiveCounts: event.Records.map((record) => record.attributes.ApproximateReceiveCount),
        });
        await sleep(6_000);
      },
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["slow"]);
      // 7 s gathering and 6 s running: more than twice the 5 s visibility timeout.
      await eventually(
        async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0 && calls.length > 0,
        25_000,
        "the delete",
      );
      assert.deepEqual(calls, [{ bodies: ["slow"], receiveCounts: ["1"] }], "delivered again while held");
      assert.deepEqual(
        logs.find((l) => l.event === "duplicate-delivery" || l.event === "visibility-lapsed"),
        [],
      );
      assert.deepEqual(await queueCounts(b.sqs, b.queue.queueUrl), { visible: 0, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });

  test("a record as the consumer hands it over is the record the test helper sqsEvent makes of the same message, digests as SQS sent them", async () => {
    const b = await bed();
    const events: SQSEvent[] = [];
    const { running } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1" },
      batchHandler: (event) => {
        events.push(event);
        return Promise.resolve();
      },
    });
    try {
      const body = '{"orderId":"o-1"} ✓';
      const attributes: Record<string, MessageAttributeValue> = {
        tenant: { DataType: "String", StringValue: "acme" },
        weight: { DataType: "Number.float", StringValue: "1.5" },
        thumbnail: { DataType: "Binary", BinaryValue: Uint8Array.from([0, 1, 2, 255]) },
      };
      // The oracle for both digests is the queue: what SendMessage answered.
      const sent = await b.sqs.send(
        new SendMessageCommand({ QueueUrl: b.queue.queueUrl, MessageBody: body, MessageAttributes: attributes }),
      );
      await eventually(() => events.length > 0, 10_000, "the batch");
      const [handed] = events[0]!.Records;
      assert.ok(handed);
      assert.equal(handed.md5OfBody, sent.MD5OfMessageBody);
      assert.equal(handed.md5OfMessageAttributes, sent.MD5OfMessageAttributes);
      const [made] = sqsEvent(
        [{ body, messageId: sent.MessageId!, attributes: { ...handed.attributes }, messageAttributes: attributes }],
        { queueUrl: b.queue.queueUrl },
      ).Records;
      assert.deepEqual({ ...made, receiptHandle: handed.receiptHandle }, handed);
    } finally {
      await running.stop();
    }
  });

  test("HANDLER_CONCURRENCY counts a batch's messages: 20 slots, batches of 10, never more than 20 messages in handlers", async () => {
    const b = await bed();
    let inHandlers = 0;
    let most = 0;
    let batchesAtOnce = 0;
    let mostBatches = 0;
    let handled = 0;
    await sendMessages(
      b.sqs,
      b.queue.queueUrl,
      Array.from({ length: 80 }, (_, i) => `m${i}`),
    );
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "20", BATCH_SIZE: "10", RECEIVE_LOOPS: "4", WAIT_TIME_SECONDS: "1" },
      batchHandler: async (event) => {
        inHandlers += event.Records.length;
        batchesAtOnce++;
        most = Math.max(most, inHandlers);
        mostBatches = Math.max(mostBatches, batchesAtOnce);
        await sleep(150);
        inHandlers -= event.Records.length;
        batchesAtOnce--;
        handled += event.Records.length;
      },
    });
    try {
      await eventually(() => handled === 80, 20_000, "80 messages handled");
      assert.ok(most <= 20, `${most} messages in handlers at once with HANDLER_CONCURRENCY=20`);
      assert.ok(mostBatches <= 2, `${mostBatches} batches at once`);
      assert.ok(most > 10, `never more than one batch ran (${most}): the test shows nothing`);
    } finally {
      await running.stop();
    }
  });

  test("shutdown: a running batch finishes within the budget and is deleted; gathered messages become visible again at once", async () => {
    const b = await bed();
    let release: () => void = () => undefined;
    const started: string[][] = [];
    const { running, logs } = await startTestConsumer(b, {
      env: { BATCH_SIZE: "2", BATCH_WINDOW_SECONDS: "60", SHUTDOWN_BUDGET_SECONDS: "25", WAIT_TIME_SECONDS: "1" },
      batchHandler: (event) => {
        started.push(bodies(event));
        return new Promise((resolve) => (release = resolve));
      },
    });
    await sendMessages(b.sqs, b.queue.queueUrl, ["first", "second"]);
    await eventually(() => started.length === 1, 5_000, "the first batch");
    await sendMessages(b.sqs, b.queue.queueUrl, ["gathered"]);
    await eventually(
      async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 3,
      5_000,
      "the third message held, gathering a batch",
    );
    const stopped = running.stop();
    await sleep(300);
    release();
    await stopped;
    assert.equal(started.length, 1, "the gathered message was started at shutdown");
    const line = logs.find((l) => l.event === "stopped")[0]!;
    assert.equal(line.unfinished, 0);
    assert.equal(line.notStarted, 1);
    const { Messages = [] } = await b.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: b.queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    assert.deepEqual(
      Messages.map((m) => m.Body),
      ["gathered"],
      "the gathered message is visible at once; the finished batch was deleted",
    );
  });
});

describe("a batch handler on a FIFO queue", () => {
  const beds: FifoTestBed[] = [];
  after(() => Promise.all(beds.map((bed) => bed.close())));

  test("groups keep their order across batches; a failure stops its group and what follows it becomes visible again, other groups go on", async () => {
    const b = await startFifoTestBed({ visibilityTimeoutSeconds: 5 });
    beds.push(b);
    const handled: string[] = [];
    let failedOnce = false;
    const { running, logs } = await startTestConsumer(b, {
      env: { BATCH_SIZE: "4", RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1", VISIBILITY_TIMEOUT_SECONDS: "5" },
      // Reports a2 failed the first time, and nothing else, though a3 and a4 follow it: a handler that
      // does not follow Lambda's FIFO rule. The consumer gives them back with a2 all the same.
      batchHandler: (event) => {
        const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
        for (const record of event.Records) {
          if (record.body === "a2" && !failedOnce) {
            failedOnce = true;
            batchItemFailures.push({ itemIdentifier: record.messageId });
            continue;
          }
          handled.push(record.body);
        }
        return Promise.resolve({ batchItemFailures });
      },
    });
    try {
      await b.send("a", ["a1", "a2", "a3", "a4", "a5", "a6"]);
      await b.send("b", ["b1", "b2", "b3"]);
      await eventually(() => handled.length >= 9, 15_000, "every message handled");
      const order = (group: string) => handled.filter((body) => body.startsWith(group));
      // a3 and a4 were handled in the failed batch too (the handler said so), and again after a2.
      assert.deepEqual(order("b"), ["b1", "b2", "b3"]);
      const a = order("a");
      assert.deepEqual(a.slice(-5), ["a2", "a3", "a4", "a5", "a6"], `group a ran ${a.join(", ")}`);
      const stopped = logs.find((l) => l.event === "group-stopped");
      assert.ok(stopped.length >= 1, "the overruled messages are named");
      assert.ok(
        !handled.slice(0, handled.indexOf("a2")).some((body) => ["a5", "a6"].includes(body)),
        "a message of group a ran before a2 was handled",
      );
    } finally {
      await running.stop();
    }
  });
});
