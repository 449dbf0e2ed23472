// Batch handlers, piece by piece: the event a batch handler is given, against the example events of the
// Lambda developer guide; how its answer is read, against Lambda's success and failure conditions; the
// FIFO rule; and how messages are gathered into batches.
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { Batcher, batchVerdicts, eventSource, readBatchAnswer, toSqsRecord } from "../src/batch";
import { MessageGroups } from "../src/dispatch";
import { toReceivedMessage } from "../src/handler";

/** What the consumer makes of a message as ReceiveMessage returns it (SQS API reference, Message). */
const record = (raw: Message, queueUrl: string, region: string) =>
  toSqsRecord(toReceivedMessage(raw), raw.ReceiptHandle!, eventSource(queueUrl, region));

describe("the event a batch handler is given", () => {
  // The expected records are the example events of "Using Lambda with Amazon SQS" (Lambda developer
  // guide: "Example standard queue message event" and "Example FIFO queue message event"); the inputs are
  // the same messages as SQS's ReceiveMessage returns them.
  test("a standard queue's message becomes the record Lambda's example event shows", () => {
    const raw: Message = {
      MessageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      ReceiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      Body: "Test message.",
      MD5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      Attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1545082649183",
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: "1545082649185",
      },
      MessageAttributes: { myAttribute: { DataType: "String", StringValue: "myValue" } },
    };
    assert.deepEqual(record(raw, "https://sqs.us-east-2.amazonaws.com/123456789012/my-queue", "us-east-2"), {
      messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      body: "Test message.",
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1545082649183",
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: "1545082649185",
      },
      messageAttributes: {
        myAttribute: { stringValue: "myValue", stringListValues: [], binaryListValues: [], dataType: "String" },
      },
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-2:123456789012:my-queue",
      awsRegion: "us-east-2",
    });
  });

  test("a FIFO queue's message carries its group, deduplication id and sequence number as Lambda's example shows", () => {
    const raw: Message = {
      MessageId: "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
      ReceiptHandle: "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
      Body: "Test message.",
      MD5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      Attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1573251510774",
        SequenceNumber: "18849496460467696128",
        MessageGroupId: "1",
        SenderId: "AIDAIO23YVJENQZJOL4VO",
        MessageDeduplicationId: "1",
        ApproximateFirstReceiveTimestamp: "1573251510774",
      },
    };
    assert.deepEqual(record(raw, "https://sqs.us-east-2.amazonaws.com/123456789012/fifo.fifo", "us-east-2"), {
      messageId: "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
      receiptHandle: "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
      body: "Test message.",
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1573251510774",
        SequenceNumber: "18849496460467696128",
        MessageGroupId: "1",
        SenderId: "AIDAIO23YVJENQZJOL4VO",
        MessageDeduplicationId: "1",
        ApproximateFirstReceiveTimestamp: "1573251510774",
      },
      messageAttributes: {},
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-2:123456789012:fifo.fifo",
      awsRegion: "us-east-2",
    });
  });

  test("Binary attribute values are base64 in the record, as Lambda encodes them", () => {
    const raw: Message = {
      MessageId: "m-1",
      ReceiptHandle: "r-1",
      Body: "{}",
      MD5OfBody: "99914b932bd37a50b983c5e7c90ae93b",
      Attributes: { ApproximateReceiveCount: "2" },
      MessageAttributes: {
        image: { DataType: "Binary.png", BinaryValue: Uint8Array.from([0x31, 0x31, 0x30, 0x30]) },
        count: { DataType: "Number", StringValue: "3" },
      },
    };
    const { messageAttributes, attributes } = record(raw, "https://sqs.eu-west-1.amazonaws.com/1/q", "eu-west-1");
    assert.deepEqual(messageAttributes.image, {
      binaryValue: "MTEwMA==",
      stringListValues: [],
      binaryListValues: [],
      dataType: "Binary.png",
    });
    assert.deepEqual(messageAttributes.count, {
      stringValue: "3",
      stringListValues: [],
      binaryListValues: [],
      dataType: "Number",
    });
    assert.equal(attributes.ApproximateReceiveCount, "2", "system attributes stay strings, as on Lambda");
  });

  test("the queue's ARN names its partition: aws, aws-cn, aws-us-gov (IAM User Guide, 'IAM ARNs')", () => {
    const cases: [string, string, string][] = [
      [
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        "eu-west-1",
        "arn:aws:sqs:eu-west-1:123456789012:orders",
      ],
      [
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/orders",
        "cn-north-1",
        "arn:aws-cn:sqs:cn-north-1:123456789012:orders",
      ],
      [
        "https://sqs.us-gov-west-1.amazonaws.com/123456789012/orders.fifo",
        "us-gov-west-1",
        "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:orders.fifo",
      ],
      // The emulator's URLs have the same path; the ARN is what fauxqs itself reports as QueueArn.
      [
        "http://sqs.us-east-1.localhost:4566/000000000000/sqs-eks-consumer-local",
        "us-east-1",
        "arn:aws:sqs:us-east-1:000000000000:sqs-eks-consumer-local",
      ],
    ];
    for (const [url, region, arn] of cases) assert.equal(eventSource(url, region).eventSourceARN, arn, url);
  });
});

describe("reading a batch handler's answer as Lambda reads a partial batch response", () => {
  // Lambda developer guide, "Handling errors for an SQS event source in Lambda": success and failure conditions.
  const ids = new Set(["m-1", "m-2", "m-3"]);

  test("a complete success: no answer, null, an object without batchItemFailures, or with it null or empty", () => {
    for (const answer of [
      undefined,
      null,
      {},
      { statusCode: 200 },
      { batchItemFailures: null },
      { batchItemFailures: [] },
    ]) {
      assert.deepEqual(readBatchAnswer(answer, ids), { ok: true, failed: new Set() }, JSON.stringify(answer));
    }
  });

  test("the listed messages failed, the rest succeeded", () => {
    const answer = readBatchAnswer({ batchItemFailures: [{ itemIdentifier: "m-2" }, { itemIdentifier: "m-3" }] }, ids);
    assert.deepEqual(answer, { ok: true, failed: new Set(["m-2", "m-3"]) });
  });

  test("the answer is read as JSON, as Lambda serialises it: toJSON, own enumerable properties, no functions", () => {
    class Answer {
      toJSON() {
        return { batchItemFailures: [{ itemIdentifier: "m-1" }] };
      }
    }
    assert.deepEqual(readBatchAnswer(new Answer(), ids), { ok: true, failed: new Set(["m-1"]) });
    // A getter on the prototype is not serialised: Lambda sees no failures.
    class Getter {
      get batchItemFailures() {
        return [{ itemIdentifier: "m-2" }];
      }
    }
    assert.deepEqual(readBatchAnswer(new Getter(), ids), { ok: true, failed: new Set() });
    // An itemIdentifier that is a Date becomes a string: an id no message has.
    const dated = readBatchAnswer({ batchItemFailures: [{ itemIdentifier: new Date(0) }] }, ids);
    assert.equal(dated.ok, false);
    assert.match(dated.ok ? "" : dated.reason, /"1970-01-01T00:00:00.000Z" is not a message of this batch/);
    assert.deepEqual(
      readBatchAnswer(() => undefined, ids),
      { ok: true, failed: new Set() },
    );
    const big = readBatchAnswer({ batchItemFailures: [{ itemIdentifier: 1n }] }, ids);
    assert.equal(big.ok, false);
    assert.match(big.ok ? "" : big.reason, /cannot be serialised to JSON/);
  });

  test("a complete failure: an empty, null, missing or unknown itemIdentifier, or an answer of another shape", () => {
    const cases: [unknown, RegExp][] = [
      [{ batchItemFailures: [{ itemIdentifier: "" }] }, /itemIdentifier is empty/],
      [{ batchItemFailures: [{ itemIdentifier: null }] }, /itemIdentifier is null/],
      [{ batchItemFailures: [{ itemId: "m-1" }] }, /itemIdentifier is missing/],
      [
        { batchItemFailures: [{ itemIdentifier: "m-1" }, { itemIdentifier: "m-9" }] },
        /"m-9" is not a message of this batch/,
      ],
      [{ batchItemFailures: [{ itemIdentifier: 1 }] }, /itemIdentifier is a number/],
      [{ batchItemFailures: ["m-1"] }, /batchItemFailures\[0\] is the string "m-1"/],
      [{ batchItemFailures: "m-1" }, /batchItemFailures is the string "m-1", not a list/],
      ["ok", /the answer is the string "ok"/],
      [[{ itemIdentifier: "m-1" }], /the answer is a list/],
    ];
    for (const [answer, reason] of cases) {
      const read = readBatchAnswer(answer, ids);
      assert.ok(!read.ok, JSON.stringify(answer));
      assert.match(read.reason, reason);
    }
  });
});

describe("each message's verdict", () => {
  const m = (messageId: string, groupId?: string) => ({ messageId, groupId });
  const batch = [m("a1", "a"), m("a2", "a"), m("b1", "b"), m("a3", "a"), m("b2", "b")];

  test("FIFO: a group stops at its first failure, later messages of it become visible again behind it; other groups stand", () => {
    // Lambda's FIFO rule (report the first failure and every later message), per group as Powertools'
    // SqsFifoPartialProcessor applies it with skipGroupOnError.
    assert.deepEqual(batchVerdicts(batch, new Set(["a2"]), true), [
      "succeeded",
      "failed",
      "succeeded",
      "behind",
      "succeeded",
    ]);
    assert.deepEqual(batchVerdicts(batch, new Set(["a2", "a3", "b1"]), true), [
      "succeeded",
      "failed",
      "failed",
      "behind",
      "behind",
    ]);
    assert.deepEqual(batchVerdicts(batch, "all", true), ["failed", "behind", "failed", "behind", "behind"]);
  });

  test("standard queues: each message stands alone, whatever its group id", () => {
    assert.deepEqual(batchVerdicts(batch, new Set(["a2"]), false), [
      "succeeded",
      "failed",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    assert.deepEqual(batchVerdicts(batch, "all", false), ["failed", "failed", "failed", "failed", "failed"]);
  });
});

describe("gathering batches", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("without a window, a batch is what one receive brought, cut at the batch size", () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(4, 0, (batch) => batches.push(batch));
    batcher.add([[1], [2], [3], [4], [5], [6]]);
    assert.deepEqual(batches, [
      [1, 2, 3, 4],
      [5, 6],
    ]);
    batcher.add([[7]]);
    assert.deepEqual(batches.at(-1), [7]);
  });

  test("with a window, receives are gathered until the batch is full or the window, from its first message, ends", () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(5, 1_000, (batch) => batches.push(batch));
    batcher.add([[1], [2]]);
    mock.timers.tick(600);
    batcher.add([[3]]);
    assert.deepEqual(batches, []);
    mock.timers.tick(400);
    assert.deepEqual(batches, [[1, 2, 3]], "the window counts from the batch's first message");
    batcher.add([[4], [5], [6], [7], [8]]);
    assert.deepEqual(batches.at(-1), [4, 5, 6, 7, 8], "a full batch runs at once");
    assert.deepEqual(batcher.gathering, []);
  });

  test("a run (a FIFO group's messages) is never split between two batches", () => {
    const batches: string[][] = [];
    const batcher = new Batcher<string>(4, 0, (batch) => batches.push(batch));
    batcher.add([["a1", "a2"], ["b1", "b2", "b3"], ["c1"]]);
    assert.deepEqual(batches, [
      ["a1", "a2"],
      ["b1", "b2", "b3", "c1"],
    ]);
    assert.throws(() => batcher.add([["d1", "d2", "d3", "d4", "d5"]]), /exceeds the batch size 4/);
  });

  test("at shutdown what is gathered is taken out and never runs", () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(10, 1_000, (batch) => batches.push(batch));
    batcher.add([[1], [2]]);
    assert.deepEqual(batcher.take(), [1, 2]);
    mock.timers.tick(2_000);
    assert.deepEqual(batches, []);
  });

  test("a FIFO group's messages start as one run of up to the batch size; the rest of the group waits for its turn", () => {
    const m = (id: string, groupId: string) => ({ id, groupId });
    const [a1, a2, a3, b1] = [m("a1", "a"), m("a2", "a"), m("a3", "a"), m("b1", "b")];
    const groups = new MessageGroups<ReturnType<typeof m>>(true, 2);
    assert.deepEqual(groups.admit([a1, a2, b1, a3]), [a1, a2, b1]);
    assert.equal(groups.waiting, 1);
    assert.deepEqual(groups.nextRun(a1), [a3]);
    assert.deepEqual(groups.nextRun(a3), [], "the group is done");
    const [a4] = [m("a4", "a")];
    assert.deepEqual(groups.admit([a4]), [a4], "a group that finished starts afresh");
  });
});
