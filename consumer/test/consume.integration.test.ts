import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ReceivedMessage } from "../src/handler";
import { SQS_ACTIONS_USED } from "../src/contract/permissions";
import { createSqsClient } from "../src/sqs-client";
import { eventually, peekMessages, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

describe("consuming", () => {
  const beds: TestBed[] = [];
  const bed = async (options?: Parameters<typeof startTestBed>[0]) => {
    const b = await startTestBed(options);
    beds.push(b);
    return b;
  };
  after(async () => {
    await Promise.all(beds.map((b) => b.close()));
    // Every request the consumer made is one the IAM policy allows (Batch calls use the single-message action).
    const used = new Set(
      beds
        .flatMap((b) => b.requests.map((r) => r.operation))
        .filter((op) => !["CreateQueue", "SendMessageBatch", "SendMessage", "GetQueueUrl"].includes(op)),
    );
    for (const op of used)
      assert.ok(
        (SQS_ACTIONS_USED as readonly string[]).includes(`sqs:${op.replace(/Batch$/, "")}`),
        `consumer called ${op}, not in SQS_ACTIONS_USED`,
      );
  });

  test("hello world: one log line with the contract's fields, then the message is deleted", async () => {
    const b = await bed();
    const { running, logs } = await startTestConsumer(b, { env: { LOG_BODY_MAX_CHARS: "256" } });
    try {
      const [id] = await sendMessages(b.sqs, b.queue.queueUrl, ["Hello world!"]);
      const line = await logs.waitFor((l) => l.event === "message", 5_000, "the message line");
      assert.equal(line.level, "info");
      assert.equal(line.messageId, id);
      assert.equal(line.body, "Hello world!");
      assert.equal(line.md5OfBody, createHash("md5").update("Hello world!").digest("hex"));
      assert.equal(line.receiveCount, 1);
      assert.equal(line.receiptHandle, undefined);
      await eventually(() => b.requests.some((r) => r.operation === "DeleteMessageBatch"), 2_000, "the delete");
      assert.deepEqual(await queueCounts(b.sqs, b.queue.queueUrl), { visible: 0, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });

  test("long bodies are logged truncated, with their length", async () => {
    const b = await bed();
    const { running, logs } = await startTestConsumer(b, { env: { LOG_BODY_MAX_CHARS: "8" } });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["0123456789abcdef"]);
      const line = await logs.waitFor((l) => l.event === "message", 5_000);
      assert.equal(line.body, "01234567");
      assert.equal(line.bodyTruncated, true);
      assert.equal(line.bodyLength, 16);
      assert.ok(!JSON.stringify(logs.lines).includes("0123456789abcdef"));
    } finally {
      await running.stop();
    }
  });

  test("N messages are each handled exactly once, deleted in batches, never more in flight than the concurrency", async () => {
    const b = await bed();
    const n = 500;
    const seen = new Map<string, number>();
    let inFlight = 0;
    let peak = 0;
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "25", RECEIVE_LOOPS: "3" },
      handler: async (m: ReceivedMessage) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen.set(m.body, (seen.get(m.body) ?? 0) + 1);
        inFlight--;
      },
    });
    try {
      await sendMessages(
        b.sqs,
        b.queue.queueUrl,
        Array.from({ length: n }, (_, i) => `message ${i}`),
      );
      await eventually(() => seen.size === n, 20_000, `${n} messages`);
      await eventually(async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0, 5_000, "all deletes");
      assert.deepEqual(
        [...seen.values()].filter((count) => count !== 1),
        [],
      );
      assert.ok(peak <= 25, `peak in flight ${peak} exceeds the concurrency of 25`);
      const deletes = b.requests.filter((r) => r.operation === "DeleteMessageBatch").length;
      assert.ok(
        deletes <= Math.ceil(n / 10) * 1.5,
        `${deletes} DeleteMessageBatch calls for ${n} messages: not coalesced`,
      );
      assert.deepEqual(await queueCounts(b.sqs, b.queue.queueUrl), { visible: 0, inFlight: 0 });

      const metrics = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text();
      const value = (series: string) =>
        Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1]);
      assert.equal(value("sqs_consumer_messages_received_total"), n);
      assert.equal(value("sqs_consumer_messages_succeeded_total"), n);
      assert.equal(value("sqs_consumer_messages_deleted_total"), n);
      assert.equal(value("sqs_consumer_messages_in_flight"), 0);
      assert.equal(value("sqs_consumer_handler_duration_seconds_count"), n);
      assert.ok(value("sqs_consumer_receive_duration_seconds_count") >= n / 10);
      assert.ok(value("sqs_consumer_empty_receives_total") >= 0);
      assert.equal(value("sqs_consumer_ready"), 1);
      assert.match(metrics, /^process_cpu_seconds_total /m);
    } finally {
      await running.stop();
    }
  });

  test("a failing message is delivered again with a growing delay, then moves to the DLQ after maxReceiveCount", async () => {
    const b = await bed({ maxReceiveCount: 3 });
    const attempts: { receiveCount: number; at: number }[] = [];
    const { running, logs } = await startTestConsumer(b, {
      env: { RETRY_BASE_SECONDS: "1", RETRY_MAX_SECONDS: "2" },
      handler: (m) => {
        if (m.body === "poison") {
          attempts.push({ receiveCount: m.receiveCount, at: Date.now() });
          return Promise.reject(new Error("cannot parse"));
        }
        return Promise.resolve();
      },
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["poison"]);
      await eventually(
        async () => (await peekMessages(b.sqs, b.queue.dlqUrl)).length === 1,
        15_000,
        "the message in the DLQ",
      );
      assert.deepEqual(
        attempts.map((a) => a.receiveCount),
        [1, 2, 3],
      );
      const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
      assert.ok(
        gaps[0]! >= 900 && gaps[1]! >= 1_900,
        `retry delays should be about 1 s then 2 s, were ${gaps.join(", ")} ms`,
      );
      const failures = logs.find((l) => l.event === "handler-failed");
      assert.equal(failures.length, 3);
      assert.equal(failures[0]!.reason, "error");
      assert.match(JSON.stringify(failures[0]!.err), /cannot parse/);
      // The consumer read the redrive policy at start-up: the last failure says where the message goes.
      assert.match(failures[1]!.msg, /will be delivered again/);
      assert.equal(failures[1]!.retryInSeconds, 2);
      assert.equal(
        failures[2]!.msg,
        "handler failed; this was receive 3, the queue's maxReceiveCount: SQS moves it to the DLQ instead of delivering it again",
      );
      assert.equal(failures[2]!.retryInSeconds, undefined);
      assert.equal(failures[2]!.maxReceiveCount, 3);
      assert.deepEqual(await queueCounts(b.sqs, b.queue.queueUrl), { visible: 0, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });

  test("a handler that runs past its timeout fails as a timeout and the message is delivered again", async () => {
    const b = await bed();
    let calls = 0;
    const { running, logs } = await startTestConsumer(b, {
      env: { HANDLER_TIMEOUT_SECONDS: "1", RETRY_BASE_SECONDS: "1" },
      // The first run gives up when its signal aborts at the limit. (One that ignores its signal is waited
      // for, and judged by its outcome: handler-limit.integration.test.ts.)
      handler: (_message, { signal }) =>
        ++calls === 1
          ? new Promise<void>((_resolve, reject) =>
              signal.addEventListener("abort", () => reject(signal.reason as Error)),
            )
          : Promise.resolve(),
    });
    try {
      const started = Date.now();
      await sendMessages(b.sqs, b.queue.queueUrl, ["slow"]);
      await eventually(() => calls === 2, 6_000, "the second delivery");
      const failure = await logs.waitFor((l) => l.event === "handler-failed", 1_000);
      assert.equal(failure.reason, "timeout");
      assert.ok(Date.now() - started < 5_000);
      await eventually(async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0, 3_000, "the delete");
    } finally {
      await running.stop();
    }
  });

  test("the heartbeat keeps a slow message invisible past its visibility timeout", async () => {
    const b = await bed();
    let calls = 0;
    const { running } = await startTestConsumer(b, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "5", HANDLER_TIMEOUT_SECONDS: "30", RECEIVE_LOOPS: "2" },
      handler: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 12_000));
      },
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["slow"]);
      await eventually(() => calls === 1, 3_000, "the first delivery");
      await eventually(
        async () => (await queueCounts(b.sqs, b.queue.queueUrl)).inFlight === 0,
        20_000,
        "the message to be deleted",
      );
      assert.equal(calls, 1, "the message was delivered again while its handler ran");
      assert.ok(
        b.requests.filter((r) => r.operation === "ChangeMessageVisibilityBatch").length >= 2,
        "no heartbeat was sent",
      );
    } finally {
      await running.stop();
    }
  });

  test("a client passed in is the one used (its middleware sees every call) and is left open on stop", async () => {
    const b = await bed();
    const seen: string[] = [];
    let destroyed = false;
    const { running } = await startTestConsumer(b, {
      sqs: (settings, env) => {
        const client = createSqsClient(settings, env);
        client.middlewareStack.add(
          (next, context) => (args) => {
            seen.push(context.commandName ?? "");
            return next(args);
          },
          { step: "initialize", name: "recordCommands" },
        );
        const destroy = client.destroy.bind(client);
        client.destroy = () => {
          destroyed = true;
          destroy();
        };
        return client;
      },
    });
    try {
      await sendMessages(b.sqs, b.queue.queueUrl, ["through my client"]);
      await eventually(() => seen.includes("DeleteMessageBatchCommand"), 5_000, "the delete through the given client");
      // The test's own client never receives: every ReceiveMessage the emulator served came through the given client.
      const receives = () => [
        seen.filter((name) => name === "ReceiveMessageCommand").length,
        b.requests.filter((r) => r.operation === "ReceiveMessage").length,
      ];
      await eventually(
        () => receives()[0] === receives()[1],
        2_000,
        "the emulator's receive count to match the client's",
      );
    } finally {
      await running.stop();
    }
    assert.equal(destroyed, false, "stop destroyed a client it did not create");
  });
});
