// One damaged message never blocks the others: each message's MD5OfBody and MD5OfMessageAttributes are
// checked on its own; a mismatch is logged with the message id, counted, not handled, and left for
// redelivery (so it reaches the DLQ), while the rest of the batch is handled.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type MessageAttributeValue,
} from "@aws-sdk/client-sqs";
import type { EmulatorApp } from "../local/emulator";
import { checkMessage, md5OfBody, md5OfMessageAttributes } from "../src/dispatch";
import { probe } from "./helpers/consumer-process";
import { eventually, peekMessages, queueCounts } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const ATTRIBUTES: Record<string, MessageAttributeValue> = {
  tenant: { DataType: "String", StringValue: "acme – 株式会社" },
  attempt: { DataType: "Number", StringValue: "3" },
  price: { DataType: "Number.float", StringValue: "4563442423554324324264524243.32543234" },
  thumbnail: { DataType: "Binary.gif", BinaryValue: Uint8Array.of(0x47, 0x49, 0x46, 0x38, 0x00, 0xff) },
  raw: { DataType: "Binary", BinaryValue: new TextEncoder().encode("Hello binary world!") },
  kind: { DataType: "String.json", StringValue: '{"a":1}' },
};

// The digests' published reference values are checked in dispatch.test.ts.
describe("message digests", () => {
  test("digests of real messages from the emulator through the SDK: String, Number, Binary and custom types", async () => {
    const bed = await startTestBed();
    try {
      const sent = await bed.sqs.send(
        new SendMessageCommand({
          QueueUrl: bed.queue.queueUrl,
          MessageBody: "héllo 株式会社",
          MessageAttributes: ATTRIBUTES,
        }),
      );
      assert.equal(
        md5OfMessageAttributes(ATTRIBUTES),
        sent.MD5OfMessageAttributes,
        "our digest of what was sent = the emulator's",
      );
      const { Messages = [] } = await bed.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }),
      );
      const [message] = Messages;
      assert.ok(message);
      assert.equal(md5OfBody(message.Body!), message.MD5OfBody);
      assert.equal(md5OfMessageAttributes(message.MessageAttributes!), message.MD5OfMessageAttributes);
      assert.equal(checkMessage(message), undefined);
      assert.equal(checkMessage({ ...message, Body: "hello" }), "body");
      assert.equal(checkMessage({ ...message, MD5OfBody: "0".repeat(32) }), "body");
      assert.equal(
        checkMessage({
          ...message,
          MessageAttributes: { ...message.MessageAttributes, attempt: { DataType: "Number", StringValue: "4" } },
        }),
        "attributes",
      );
      assert.equal(checkMessage({ ...message, MD5OfMessageAttributes: undefined }), "attributes");
      assert.equal(
        checkMessage({ ...message, MessageAttributes: undefined, MD5OfMessageAttributes: undefined }),
        undefined,
      );
    } finally {
      await bed.close();
    }
  });
});

type Corruption = "md5-of-body-zeroed" | "body-altered" | "attribute-digest-wrong" | "attribute-value-altered";

interface WireMessage {
  Body?: string;
  MD5OfBody?: string;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

/** A stand-in for a faulty network or proxy: damages the message whose body is "bad" in every ReceiveMessage answer from the queue. */
function damage(corruption: Corruption) {
  return (app: EmulatorApp): void => {
    app.addHook("onSend", (request, _reply, payload, done) => {
      const fromQueue = (request.body as { QueueUrl?: string } | undefined)?.QueueUrl ?? "";
      // The DLQ is read by the test's own client, undamaged.
      if (
        request.headers["x-amz-target"] !== "AmazonSQS.ReceiveMessage" ||
        fromQueue.endsWith("-dlq") ||
        typeof payload !== "string"
      )
        return done(null, payload);
      const answer = JSON.parse(payload) as { Messages?: WireMessage[] };
      for (const message of answer.Messages ?? []) {
        if (message.Body !== "bad") continue;
        if (corruption === "md5-of-body-zeroed") message.MD5OfBody = "0".repeat(32);
        if (corruption === "body-altered") message.Body = "bac";
        if (corruption === "attribute-digest-wrong") message.MD5OfMessageAttributes = md5OfBody("not the attributes");
        if (corruption === "attribute-value-altered") message.MessageAttributes!.attempt!.StringValue = "30";
      }
      done(null, JSON.stringify(answer));
    });
  };
}

describe("one damaged message never blocks the batch", () => {
  const beds: TestBed[] = [];
  after(() => Promise.all(beds.map((b) => b.close())));

  const cases: { corruption: Corruption; part: string }[] = [
    { corruption: "md5-of-body-zeroed", part: "body" },
    { corruption: "body-altered", part: "body" },
    { corruption: "attribute-digest-wrong", part: "attributes" },
    { corruption: "attribute-value-altered", part: "attributes" },
  ];
  for (const { corruption, part } of cases) {
    test(`good-1, good-2, bad, good-3, good-4 with ${corruption}: the four good ones handled, the bad one logged, counted, never handled, then in the DLQ`, async () => {
      const bed = await startTestBed({ configure: damage(corruption), maxReceiveCount: 2 });
      beds.push(bed);
      const handled: string[] = [];
      const { running, logs } = await startTestConsumer(bed, {
        env: { RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
        handler: (message) => Promise.resolve(void handled.push(message.body)),
      });
      try {
        const bodies = ["good-1", "good-2", "bad", "good-3", "good-4"];
        const sent = await bed.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: bed.queue.queueUrl,
            Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body, MessageAttributes: ATTRIBUTES })),
          }),
        );
        const badId = sent.Successful!.find((s) => s.Id === "2")!.MessageId!;
        await eventually(() => handled.length >= 4, 10_000, "the good messages to be handled");
        assert.ok(!handled.includes("bad"), "the damaged message was handled");
        const warning = await logs.waitFor((l) => l.event === "checksum-mismatch", 5_000, "the mismatch warning");
        assert.equal(warning.level, "warn");
        assert.equal(warning.messageId, badId);
        assert.equal(warning.part, part);
        await eventually(
          async () => (await peekMessages(bed.sqs, bed.queue.dlqUrl)).some((m) => m.messageId === badId),
          20_000,
          "the bad message in the DLQ",
        );
        await eventually(
          async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
          5_000,
          "the good messages deleted",
        );
        assert.deepEqual(
          handled.sort(),
          ["good-1", "good-2", "good-3", "good-4"],
          "each good message once, the bad one never",
        );
        const metrics = (await probe(running.healthPort, "/metrics")).body;
        assert.match(
          metrics,
          new RegExp(`^sqs_consumer_checksum_mismatches_total\\{part="${part}"\\} [2-9]`, "m"),
          "each damaged receive is counted",
        );
      } finally {
        await running.stop();
      }
    });
  }
});
