// The start-up checks (credentials, the queue's attributes and redrive policy) survive a first failure:
// they are retried with the receive loop's backoff (rarely after AccessDenied) until they succeed once.
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

/** An emulator hook: once `deny.on`, GetQueueAttributes is denied, every time; `deny.at` records when. */
function denyQueueAttributes(deny: { on: boolean; at: number[] }) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, reply, done) => {
      if (deny.on && request.headers["x-amz-target"] === "AmazonSQS.GetQueueAttributes") {
        deny.at.push(Date.now());
        void reply
          .code(400)
          .header("content-type", "application/x-amz-json-1.0")
          .header("x-amzn-query-error", "AccessDenied;Sender")
          .send(
            JSON.stringify({
              __type: "com.amazon.coral.service#AccessDeniedException",
              message: "User is not authorized to perform: sqs:GetQueueAttributes",
            }),
          );
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

  test("GetQueueAttributes denied for good: warned once, credentials logged once, retried rarely", async () => {
    const deny = { on: false, at: [] as number[] };
    const bed = await startTestBed({ configure: denyQueueAttributes(deny) });
    beds.push(bed);
    // The test bed reads its queues' attributes while it sets them up: denied from here on.
    deny.on = true;
    const denied = deny.at;
    const { running, logs } = await startTestConsumer(bed, { env: { WAIT_TIME_SECONDS: "1" } });
    try {
      await logs.waitFor((l) => l.event === "queue" && l.level === "warn", 10_000, "the failed check's warning");
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      // AccessDenied is not retried by the SDK: each denial is one pass of the check. The receive loop's
      // backoff (200 ms doubling) would make at least 5 passes in 6 s, whatever its jitter.
      const within = denied.filter((at) => at - denied[0]! <= 6_000).length;
      assert.ok(within <= 4, `${within} checks within 6 s of the first denial`);
      const failed = logs.find((l) => l.event === "queue" && l.level === "warn");
      assert.equal(failed.length, 1, "warned once");
      assert.equal(failed[0]!.kind, "access-denied");
      assert.equal(logs.find((l) => l.event === "credentials").length, 1, "credentials logged once");
    } finally {
      await running.stop();
    }
  });
});
