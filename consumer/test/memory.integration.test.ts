import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { SQS_MAX_MESSAGE_BYTES, nodeHeapForMemoryLimit, nodeHeapOptions } from "../src/contract";
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
      const bundle = await buildFixtureBundle(join(__dirname, "fixtures", "large-message-consumer.ts"));
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
