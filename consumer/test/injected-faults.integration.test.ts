import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EmulatorApp } from "../local/emulator";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer } from "./helpers/test-bed";

interface BatchBody {
  Entries?: { Id: string; ReceiptHandle: string }[];
}

/**
 * Fault injection at the emulator: in the next `times` DeleteMessageBatch calls, the first entry is
 * kept from the emulator (so the message is not deleted) and answered as failed: on SQS's side
 * (SenderFault false, worth retrying) or on ours (SenderFault true, e.g. an expired receipt handle).
 */
function failFirstEntry(kind: "transient" | "permanent", times: number) {
  let remaining = times;
  const withheld = new WeakMap<object, string>();
  const failure =
    kind === "transient"
      ? { SenderFault: false, Code: "InternalError", Message: "injected SQS-side failure" }
      : { SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "injected: the receipt handle has expired" };
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, reply, done) => {
      const body = request.body as BatchBody | undefined;
      if (
        request.headers["x-amz-target"] === "AmazonSQS.DeleteMessageBatch" &&
        remaining > 0 &&
        body?.Entries?.length
      ) {
        remaining--;
        const [first, ...rest] = body.Entries;
        if (rest.length === 0) {
          // Nothing left for the emulator: answer the whole batch here.
          void reply
            .header("content-type", "application/x-amz-json-1.0")
            .send(JSON.stringify({ Successful: [], Failed: [{ Id: first!.Id, ...failure }] }));
          return;
        }
        body.Entries = rest;
        withheld.set(request, first!.Id);
      }
      done();
    });
    app.addHook("onSend", (request, _reply, payload, done) => {
      const id = withheld.get(request);
      if (id === undefined || typeof payload !== "string") return done(null, payload);
      const result = JSON.parse(payload) as { Successful?: unknown[]; Failed?: unknown[] };
      result.Failed = [...(result.Failed ?? []), { Id: id, ...failure }];
      done(null, JSON.stringify(result));
    });
  };
}

describe("partial DeleteMessageBatch failures", () => {
  test("an entry SQS failed on its side is retried until deleted, and the message is handled once", async () => {
    const bed = await startTestBed({ configure: failFirstEntry("transient", 2) });
    const handled: string[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      handler: (m) => Promise.resolve(void handled.push(m.body)),
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["one", "two", "three"]);
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0 && handled.length === 3,
        10_000,
        "the deletes",
      );
      assert.ok(
        bed.requests.filter((r) => r.operation === "DeleteMessageBatch").length >= 3,
        "two failed attempts, then success",
      );
      assert.deepEqual(
        logs.find((l) => l.event === "delete-failed"),
        [],
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(handled.sort(), ["one", "three", "two"], "a message was handled twice");
    } finally {
      await running.stop();
      await bed.close();
    }
  });

  test("an entry SQS rejects (SenderFault) is reported, counted, and never silently dropped", async () => {
    const bed = await startTestBed({ configure: failFirstEntry("permanent", 1) });
    const { running, logs } = await startTestConsumer(bed, { env: { VISIBILITY_TIMEOUT_SECONDS: "5" } });
    try {
      const [id] = await sendMessages(bed.sqs, bed.queue.queueUrl, ["two"]);
      const report = await logs.waitFor((l) => l.event === "delete-failed", 5_000, "the report");
      assert.equal(report.level, "warn");
      assert.equal(report.messageId, id);
      assert.equal(report.code, "ReceiptHandleIsInvalid");
      assert.equal(
        bed.requests.filter((r) => r.operation === "DeleteMessageBatch").length,
        1,
        "a sender fault is not retried",
      );
      const metrics = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text();
      assert.match(metrics, /^sqs_consumer_delete_failures_total 1$/m);
      // At-least-once: SQS delivers the message again after its visibility timeout, and this time it goes.
      await logs.waitFor((l) => l.event === "message" && l.receiveCount === 2, 10_000, "the redelivery");
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        3_000,
        "the second delete",
      );
    } finally {
      await running.stop();
      await bed.close();
    }
  });
});

describe("IAM denials", () => {
  test("AccessDenied on receive: not ready, a hint naming the action and the role, recovery when the policy is fixed", async () => {
    let deny = true;
    const bed = await startTestBed({
      configure: (app) =>
        app.addHook("preHandler", (request, reply, done) => {
          if (deny && request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage") {
            // What SQS answers when the role's policy lacks sqs:ReceiveMessage (JSON protocol, query-compatible code).
            void reply
              .code(400)
              .header("content-type", "application/x-amz-json-1.0")
              .header("x-amzn-query-error", "AccessDenied;Sender")
              .send(
                JSON.stringify({
                  __type: "com.amazon.coral.service#AccessDeniedException",
                  message:
                    "User: arn:aws:sts::123456789012:assumed-role/sqs-eks-consumer-dev-consumer/botocore-session is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:us-east-1:000000000000:q because no identity-based policy allows the sqs:receivemessage action",
                }),
              );
            return;
          }
          done();
        }),
    });
    const { running, logs } = await startTestConsumer(bed, {
      env: { AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev-consumer" },
    });
    try {
      const warning = await logs.waitFor((l) => l.event === "aws-error", 5_000, "the denial");
      assert.equal(warning.kind, "access-denied");
      assert.match(
        String(warning.hint),
        /IAM denied sqs:receivemessage to arn:aws:sts::123456789012:assumed-role\/sqs-eks-consumer-dev-consumer\/botocore-session; role arn:aws:iam::123456789012:role\/sqs-eks-consumer-dev-consumer/,
      );
      const readyz = await fetch(`http://127.0.0.1:${running.healthPort}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /access-denied/);

      deny = false;
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${running.healthPort}/readyz`)).status === 200,
        30_000,
        "ready once allowed",
      );
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["allowed now"]);
      await logs.waitFor((l) => l.body === "allowed now", 5_000, "the message");
    } finally {
      await running.stop();
      await bed.close();
    }
  });
});
