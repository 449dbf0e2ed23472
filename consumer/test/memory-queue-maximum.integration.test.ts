// Receives are charged by the largest message the queue accepts (its MaximumMessageSize attribute, read
// by the start-up check), not always by SQS's largest: under a small memory limit, a queue of messages up
// to 262,144 bytes is read 10 messages per receive, a queue of messages up to 1 MiB fewer.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { nodeHeapForMemoryLimit, nodeHeapOptions } from "../src/contract";
import type { EmulatorApp } from "../local/emulator";
import { buildFixtureBundle, killConsumers, spawnConsumer } from "./helpers/consumer-process";
import { eventually, sendMessages } from "./helpers/queue";
import { startTestBed } from "./helpers/test-bed";

/** One ReceiveMessage the emulator served: the queue and the MaxNumberOfMessages it asked for. */
interface Asked {
  readonly queueUrl: string;
  readonly maxNumberOfMessages: number;
}

/** An emulator hook recording every ReceiveMessage request's queue and MaxNumberOfMessages into `asked`. */
function recordReceives(asked: Asked[]) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, _reply, done) => {
      if (request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage") {
        const body = (typeof request.body === "string" ? JSON.parse(request.body) : request.body) as {
          QueueUrl: string;
          MaxNumberOfMessages?: number;
        };
        asked.push({ queueUrl: body.QueueUrl, maxNumberOfMessages: body.MaxNumberOfMessages ?? 1 });
      }
      done();
    });
  };
}

/** The contract's heap for this memory limit: a budget that fits fewer than 10 receive charges of messages of 1 MiB. */
const LIMIT_MiB = 128;

type TestBed = Awaited<ReturnType<typeof startTestBed>>;

/**
 * The fixture consumer on `queueUrl` with the heap for LIMIT_MiB and one receive loop, each message held
 * `handlerDelayMs`; `asks()` lists what its receives asked for so far, and `stop()` ends it and the bed,
 * checking it exited 0.
 */
async function startConsumer(bed: TestBed, asked: readonly Asked[], queueUrl: string, handlerDelayMs: number) {
  const bundle = await buildFixtureBundle(join(__dirname, "fixtures", "slow-consumer.ts"));
  const consumer = spawnConsumer(bundle, {
    ...bed.env,
    QUEUE_URL: queueUrl,
    RECEIVE_LOOPS: "1",
    WAIT_TIME_SECONDS: "1",
    HANDLER_DELAY_MS: String(handlerDelayMs),
    NODE_OPTIONS: nodeHeapOptions(nodeHeapForMemoryLimit(LIMIT_MiB)),
  });
  return {
    consumer,
    asks: (): number[] => asked.filter((a) => a.queueUrl === queueUrl).map((a) => a.maxNumberOfMessages),
    stop: async (): Promise<void> => {
      consumer.child.kill("SIGTERM");
      const exited = await consumer.exited;
      await bed.close();
      assert.equal(exited.code, 0, consumer.stray.join("").slice(-800));
    },
  };
}

describe("receives sized by the queue's MaximumMessageSize", () => {
  after(killConsumers);

  for (const { maximumMessageSize, asks } of [
    // The AWS provider's default, and SQS's largest before August 2025 (SQS quotas, "Message size").
    { maximumMessageSize: 262_144, asks: "10, the most SQS allows," },
    { maximumMessageSize: 1_048_576, asks: "fewer than 10" },
  ]) {
    test(
      `a consumer with the heap of ${LIMIT_MiB} MiB on a queue whose MaximumMessageSize is ${maximumMessageSize} asks for ${asks} messages per receive`,
      { timeout: 90_000 },
      async () => {
        const asked: Asked[] = [];
        const bed = await startTestBed({ configure: recordReceives(asked) });
        const { QueueUrl: queueUrl } = await bed.sqs.send(
          new CreateQueueCommand({
            QueueName: `maximum-${maximumMessageSize}-${process.pid}`,
            Attributes: { MaximumMessageSize: String(maximumMessageSize), VisibilityTimeout: "30" },
          }),
        );
        await sendMessages(
          bed.sqs,
          queueUrl!,
          Array.from({ length: 200 }, (_, i) => JSON.stringify({ index: i, note: "x".repeat(160) })),
        );
        const { consumer, asks: ours, stop } = await startConsumer(bed, asked, queueUrl!, 5);
        try {
          const budget = await consumer.waitFor((l) => l.event === "memory", 15_000, "the memory budget line");
          const atLargest = Number(budget.largestReceive);
          assert.ok(atLargest < 10, `the budget fits ${atLargest} messages of SQS's largest size per receive`);
          const largest = maximumMessageSize === 1_048_576 ? atLargest : 10;
          await consumer.waitFor((l) => l.event === "queue", 15_000, "the queue check");
          // Receives sent once the check has been seen are charged by the queue's maximum.
          const from = ours().length + 1;
          await eventually(() => ours().length >= from + 3, 30_000, "three receives after the queue check");
          const later = ours().slice(from);
          assert.deepEqual(
            later,
            later.map(() => largest),
            `receives after the check asked for ${JSON.stringify(later)} messages`,
          );
          const changed = consumer.lines.filter((l) => l.event === "memory" && l.maximumMessageSize !== undefined);
          if (largest === 10) {
            assert.equal(changed.length, 1, "one line says the queue's maximum changed the largest receive");
            assert.equal(changed[0]!.maximumMessageSize, maximumMessageSize);
            assert.ok(Number(changed[0]!.largestReceive) >= 10);
          } else {
            assert.deepEqual(changed, [], "SQS's largest message is what was charged already: nothing to log");
          }
        } finally {
          await stop();
        }
      },
    );
  }

  test(
    "messages sent before the queue's maximum was lowered send receives back to the charge of SQS's largest message, with a warning",
    { timeout: 90_000 },
    async () => {
      const asked: Asked[] = [];
      const bed = await startTestBed({ configure: recordReceives(asked) });
      const { QueueUrl: queueUrl } = await bed.sqs.send(
        new CreateQueueCommand({
          QueueName: `lowered-${process.pid}`,
          Attributes: { MaximumMessageSize: "1048576", VisibilityTimeout: "30" },
        }),
      );
      // Sent while the queue accepts 1 MiB, visible only once the consumer has read the lowered maximum.
      for (let i = 0; i < 8; i++)
        await bed.sqs.send(
          new SendMessageCommand({ QueueUrl: queueUrl!, MessageBody: "x".repeat(600_000), DelaySeconds: 8 }),
        );
      // SQS checks MaximumMessageSize when a message is sent: lowering it leaves these on the queue.
      await bed.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: queueUrl!, Attributes: { MaximumMessageSize: "262144" } }),
      );
      const { consumer, asks: ours, stop } = await startConsumer(bed, asked, queueUrl!, 500);
      try {
        const atLargest = Number(
          (await consumer.waitFor((l) => l.event === "memory", 15_000, "the memory budget line")).largestReceive,
        );
        const lowered = await consumer.waitFor(
          (l) => l.event === "memory" && l.maximumMessageSize === 262_144 && l.textBytes === undefined,
          15_000,
          "the line of the lowered maximum",
        );
        assert.ok(Number(lowered.largestReceive) >= 10);
        const warned = await consumer.waitFor(
          (l) => l.event === "memory" && l.textBytes !== undefined,
          30_000,
          "the warning of a message larger than the maximum",
        );
        assert.equal(warned.level, "warn");
        assert.equal(warned.maximumMessageSize, 262_144);
        assert.ok(Number(warned.textBytes) >= 600_000);
        const from = ours().length;
        await eventually(() => ours().length >= from + 3, 30_000, "three receives after the warning");
        const later = ours().slice(from);
        assert.ok(
          later.every((n) => n <= atLargest),
          `receives after the warning asked for ${JSON.stringify(later)}, at most ${atLargest}`,
        );
      } finally {
        await stop();
      }
    },
  );
});
