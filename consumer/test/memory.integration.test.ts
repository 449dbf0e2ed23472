import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { SQS_MAX_MESSAGE_BYTES, messagesOfLargestSize, nodeHeapForMemoryLimit, nodeHeapOptions } from "../src/contract";
import { Dispatcher } from "../src/dispatch";
import { Capacity, Handling } from "../src/handle";
import { Readiness } from "../src/health";
import { MessageMemory } from "../src/memory";
import { ReceiveLoops } from "../src/receive";
import { Settlement } from "../src/settle";
import { testContext } from "./helpers/context";
import { buildFixtureBundle, spawnConsumer } from "./helpers/consumer-process";
import { eventually, queueCounts } from "./helpers/queue";
import { startTestBed } from "./helpers/test-bed";

const MESSAGES = 96;

describe("memory bounded by bytes", () => {
  test(
    `${MESSAGES} messages of 1 MiB, ${MESSAGES} handler slots and the heap the contract gives 128 MiB: all handled, no crash`,
    { timeout: 180_000 },
    async () => {
      const bed = await startTestBed();
      const bundle = await buildFixtureBundle(join(__dirname, "fixtures", "slow-consumer.ts"));
      // SQS's largest message; one at a time, since a batch's payload is capped at the same size.
      const body = "x".repeat(SQS_MAX_MESSAGE_BYTES);
      for (let i = 0; i < MESSAGES; i++)
        await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: body }));
      const consumer = spawnConsumer(bundle, {
        ...bed.env,
        HANDLER_CONCURRENCY: String(MESSAGES),
        // Handlers keep their messages long enough for every slot to fill if nothing stopped receives.
        HANDLER_DELAY_MS: "2000",
        NODE_OPTIONS: nodeHeapOptions(nodeHeapForMemoryLimit(128)),
      });
      try {
        const budget = await consumer.waitFor((l) => l.event === "memory", 15_000, "the memory budget line");
        assert.equal(budget.limitSource, "heap", "no cgroup limit here: the budget follows the heap");
        await eventually(
          () =>
            consumer.lines.filter((l) => l.event === "handled").length === MESSAGES || consumer.child.exitCode !== null,
          150_000,
          `${MESSAGES} handled messages`,
        );
        assert.equal(consumer.child.exitCode, null, `the consumer exited: ${consumer.stray.join("").slice(-800)}`);
        assert.ok(
          consumer.lines.filter((l) => l.event === "handled").every((l) => l.bodyLength === SQS_MAX_MESSAGE_BYTES),
        );
        await eventually(
          async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
          10_000,
          "every message deleted",
        );
      } finally {
        consumer.child.kill("SIGTERM");
        const exited = await consumer.exited;
        await bed.close();
        assert.equal(exited.code, 0, consumer.stray.join("").slice(-800));
      }
    },
  );
});

const MiB = 1_048_576;

/** A message of `bytes` ASCII characters, with the digest SQS sends. */
function largeMessage(id: string, bytes: number): Message {
  const body = "x".repeat(bytes);
  return {
    MessageId: id,
    ReceiptHandle: `r-${id}`,
    Body: body,
    MD5OfBody: createHash("md5").update(body).digest("hex"),
  };
}

describe("receives under the budget", () => {
  test("the receive loops ask SQS for no more messages than the budget holds, and hold no more than it allows", async () => {
    const asked: number[] = [];
    let next = 0;
    const sqs = {
      send: (command: { input: { MaxNumberOfMessages?: number } }) => {
        const n = command.input.MaxNumberOfMessages;
        if (n === undefined) return Promise.resolve({});
        asked.push(n);
        return Promise.resolve({
          Messages: Array.from({ length: n }, () => largeMessage(`m${next++}`, SQS_MAX_MESSAGE_BYTES)),
        });
      },
    };
    // The budget of a 128 MiB container, and handlers that never finish: memory, not slots, must stop receiving.
    const limitMiB = 128;
    const largest = messagesOfLargestSize(limitMiB);
    const memory = MessageMemory.forLimit({ bytes: limitMiB * MiB, source: "cgroup" });
    const { ctx, logs, metrics, stop } = testContext(sqs, {
      env: { RECEIVE_LOOPS: "2", HANDLER_CONCURRENCY: "96", WAIT_TIME_SECONDS: "0" },
      memory,
    });
    const slots = new Capacity(96);
    const finish: (() => void)[] = [];
    const handling = new Handling(
      ctx,
      { handleMessage: () => new Promise<void>((resolve) => finish.push(resolve)) },
      slots,
    );
    const dispatcher = new Dispatcher(ctx, slots, handling, new Settlement(ctx));
    const readiness = new Readiness(logs.logger, metrics);
    const loops = new ReceiveLoops(ctx, slots, readiness, (messages, at, _context, reserved) =>
      dispatcher.dispatch(messages, at, ROOT_CONTEXT, reserved),
    );
    loops.start();
    try {
      for (let turn = 0; turn < 200 && dispatcher.inFlight.size < largest.held; turn++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(
        asked.every((n) => n <= largest.perReceive),
        `a receive asked for ${Math.max(...asked)} messages; the budget holds ${largest.perReceive} per receive`,
      );
      assert.equal(
        dispatcher.inFlight.size,
        largest.held,
        "held as many large messages as the preview warning says, and no more",
      );
      assert.ok(memory.held + memory.reserved <= memory.budgetBytes, "charged past the budget");
    } finally {
      stop();
      slots.close();
      loops.hangUp();
      await loops.ended();
      for (const resolve of finish) resolve();
      await dispatcher.allSettled();
    }
  });
});
