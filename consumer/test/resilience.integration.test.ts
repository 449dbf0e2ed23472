import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { buildBundle, probe, spawnConsumer } from "./helpers/consumer-process";
import { TcpProxy } from "./helpers/tcp-proxy";
import { startTestBed, type TestBed } from "./helpers/test-bed";

describe("resilience", () => {
  let bed: TestBed;
  let bundle: string;
  before(async () => {
    bed = await startTestBed();
    bundle = buildBundle();
  });
  after(() => bed.close());

  test("SQS unreachable for a few seconds: no exit, not ready while down, recovers by itself", async () => {
    const proxy = new TcpProxy(bed.emulator.port);
    await proxy.start();
    const consumer = spawnConsumer(bundle, { ...bed.env, AWS_ENDPOINT_URL_SQS: proxy.endpoint });
    try {
      const port = await consumer.healthPort();
      await eventually(async () => (await probe(port, "/readyz")).status === 200, 5_000, "ready");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["before"]);
      await consumer.waitFor((l) => l.body === "before", 5_000, "the first message");

      await proxy.stop();
      await eventually(
        async () => (await probe(port, "/readyz")).status === 503,
        30_000,
        "not ready while SQS is down",
      );
      const readyz = await probe(port, "/readyz");
      assert.match(readyz.body, /network/);
      assert.equal(
        (await probe(port, "/livez")).status,
        200,
        "liveness must not fail for an outage: restarting would not help",
      );
      const warning = await consumer.waitFor((l) => l.event === "aws-error", 1_000, "the outage warning");
      assert.equal(warning.kind, "network");
      assert.match(String(warning.hint), /Cannot reach SQS/);
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["during"]);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal(consumer.child.exitCode, null, "the consumer exited during the outage");

      await proxy.start();
      await eventually(async () => (await probe(port, "/readyz")).status === 200, 30_000, "ready again");
      await consumer.waitFor((l) => l.event === "recovered", 1_000, "the recovery line");
      await consumer.waitFor((l) => l.body === "during", 30_000, "the message sent during the outage");
      // The delete of "before" failed while SQS was away and is retried until it succeeds.
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        10_000,
        "both deletes",
      );
      assert.equal(consumer.lines.filter((l) => l.event === "message").length, 2, "a message was handled twice");
      const metrics = (await probe(port, "/metrics")).body;
      assert.match(metrics, /sqs_consumer_errors_total\{kind="network",operation="ReceiveMessage"\} [1-9]/);
    } finally {
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
      await proxy.stop();
    }
  });

  test("a missing queue is reported with a hint naming the queue, and the consumer stays up", async () => {
    const missing = bed.queue.queueUrl.replace(/[^/]+$/, "no-such-queue");
    const consumer = spawnConsumer(bundle, { ...bed.env, QUEUE_URL: missing });
    try {
      const port = await consumer.healthPort();
      const warning = await consumer.waitFor((l) => l.event === "aws-error", 10_000, "the error");
      assert.equal(warning.kind, "queue-missing");
      assert.match(String(warning.hint), /no-such-queue does not exist in us-east-1/);
      assert.equal((await probe(port, "/readyz")).status, 503);
      assert.equal(consumer.child.exitCode, null);
    } finally {
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
    }
  });
});
