// The start-up checks (credentials, the queue's attributes and redrive policy) survive a first failure:
// they are retried with the receive loop's backoff until they succeed once.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import type { EmulatorApp } from "../local/emulator";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

/** An emulator hook: the next `failures.left` GetQueueAttributes calls are answered 500 InternalError. */
function failQueueAttributes(failures: { left: number }) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, reply, done) => {
      if (request.headers["x-amz-target"] === "AmazonSQS.GetQueueAttributes" && failures.left > 0) {
        failures.left--;
        void reply
          .code(500)
          .header("content-type", "application/x-amz-json-1.0")
          .header("x-amzn-query-error", "InternalError;Receiver")
          .send(JSON.stringify({ __type: "com.amazon.coral.service#InternalError", message: "internal error" }));
        return;
      }
      done();
    });
  };
}

describe("start-up checks", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));

  test("GetQueueAttributes fails (500s past the SDK's own retries) at start: retried, then the missing-DLQ warning appears", async () => {
    const failures = { left: 0 };
    const bed = await startTestBed({ configure: failQueueAttributes(failures) });
    beds.push(bed);
    const { QueueUrl: queueUrl } = await bed.sqs.send(new CreateQueueCommand({ QueueName: `no-dlq-${process.pid}` }));
    // The SDK tries each call 3 times: 5 failures fail its first check and the first attempt of the next.
    failures.left = 5;
    const { running, logs } = await startTestConsumer(bed, { env: { QUEUE_URL: queueUrl! } });
    try {
      const warning = await logs.waitFor(
        (l) => l.event === "queue" && /no redrive policy/.test(l.msg),
        15_000,
        "the missing-DLQ warning",
      );
      assert.equal(warning.level, "warn");
      const failed = logs.find((l) => l.event === "queue" && l.level === "warn" && l.kind === "server");
      assert.equal(failed.length, 1, "the first failure is warned about once");
      assert.match(failed[0]!.msg, /retrying/);
      assert.equal(failures.left, 0);
    } finally {
      await running.stop();
    }
  });
});
