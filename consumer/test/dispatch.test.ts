import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { Dispatcher, md5OfBody, md5OfMessageAttributes, MessageGroups, type InFlight } from "../src/dispatch";
import { Capacity, type Handling, type HandlerFailure, type Outcome } from "../src/handle";
import type { Settlement, VisibilityChange } from "../src/settle";
import { testContext } from "./helpers/context";

const m = (id: string, groupId?: string) => ({ id, groupId });

describe("message groups", () => {
  test("FIFO: the first message of each group starts; the rest follow one at a time, in received order", () => {
    const groups = new MessageGroups<ReturnType<typeof m>>(true);
    const [a1, a2, b1, a3] = [m("a1", "a"), m("a2", "a"), m("b1", "b"), m("a3", "a")];
    assert.deepEqual(groups.admit([a1, a2, b1, a3]), [a1, b1]);
    assert.equal(groups.waiting, 2);
    assert.equal(groups.next(a1), a2);
    assert.equal(groups.next(b1), undefined);
    assert.equal(groups.next(a2), a3);
    assert.equal(groups.next(a3), undefined);
    assert.equal(groups.waiting, 0);
    const a4 = m("a4", "a");
    assert.deepEqual(groups.admit([a4]), [a4], "a group that finished starts afresh");
  });

  test("FIFO: a failure returns what waited behind it, and only its own group's", () => {
    const groups = new MessageGroups<ReturnType<typeof m>>(true);
    const [a1, a2, a3, b1, b2] = [m("a1", "a"), m("a2", "a"), m("a3", "a"), m("b1", "b"), m("b2", "b")];
    groups.admit([a1, a2, a3, b1, b2]);
    assert.deepEqual(groups.stopAfter(a1), [a2, a3]);
    assert.equal(groups.waiting, 1);
    assert.deepEqual(groups.takeAllWaiting(), [b2]);
    assert.equal(groups.next(b1), undefined);
  });

  test("standard queues: group ids (fair queues) serialize nothing", () => {
    const groups = new MessageGroups<ReturnType<typeof m>>(false);
    const batch = [m("a1", "a"), m("a2", "a"), m("a3", "a")];
    assert.deepEqual(groups.admit(batch), batch);
    assert.equal(groups.next(batch[0]!), undefined);
    assert.deepEqual(groups.stopAfter(batch[1]!), []);
  });
});

describe("message digests", () => {
  test("the body digest is the MD5 of its UTF-8 bytes, astral characters included", () => {
    // Python's hashlib.md5("héllo 株式会社 😀 𝄞".encode("utf-8")).hexdigest().
    assert.equal(md5OfBody("héllo 株式会社 😀 𝄞"), "458a030fb6770960c871aebefcae257a");
  });

  test("attribute digests match published reference values", () => {
    // The AWS SDK for Java's own samples (as used by YDB's SQS, ydb/core/ymq/actor/attributes_md5_ut.cpp).
    assert.equal(
      md5OfMessageAttributes({
        test_attribute_name_2: { DataType: "String", StringValue: "test_attribute_value_2" },
        test_attribute_name_1: { DataType: "String", StringValue: "test_attribute_value_1" },
      }),
      "d53f3b558fe951154770f25cb63dbba9",
    );
    assert.equal(
      md5OfMessageAttributes({
        test_attribute_name: { DataType: "Binary", BinaryValue: new TextEncoder().encode("test_attribute_value") },
      }),
      "23f6bd27ea87aab7dfeadcc9aebee495",
    );
    // A String and a Number (wcharczuk/sqslite, internal/sqslite/md5_test.go).
    assert.equal(
      md5OfMessageAttributes({
        ordinal: { DataType: "Number", StringValue: "1" },
        category: { DataType: "String", StringValue: "test" },
      }),
      "d21ae90c49061e927f57df5f5d72be1f",
    );
    // A custom Number type and a Binary (npm aws-md5-of-message-attributes, README).
    assert.equal(
      md5OfMessageAttributes({
        customNumberTypeAttrib: { DataType: "Number.float", StringValue: "4563442423554324324264524243.32543234" },
      }),
      "9fe1b90bbd9965bdf77bac517c7d2495",
    );
    assert.equal(
      md5OfMessageAttributes({
        binaryAttribute: { DataType: "Binary", BinaryValue: new TextEncoder().encode("Hello binary world!") },
      }),
      "31a92b15d92f8db860eda32aceb656c3",
    );
  });
});

/** A received SQS message of `group`, with digests that match (or a damaged body). */
function sqsMessage(id: string, group?: string, damaged = false): Message {
  return {
    MessageId: id,
    ReceiptHandle: `h-${id}`,
    Body: id,
    MD5OfBody: damaged ? "0".repeat(32) : md5OfBody(id),
    Attributes: group === undefined ? {} : { MessageGroupId: group },
  };
}

/**
 * A Dispatcher whose handler runs end when the test says (`finish`), recording what it asks settle.ts
 * to do; on a FIFO queue when `fifo`.
 */
function dispatcher(fifo: boolean) {
  const queue = `https://sqs.eu-west-1.amazonaws.com/123456789012/orders${fifo ? ".fifo" : ""}`;
  const { ctx, stop } = testContext(
    { send: () => Promise.reject(new Error("no SQS here")) },
    { env: { QUEUE_URL: queue } },
  );
  const slots = new Capacity(10);
  const started: string[] = [];
  const runs = new Map<string, (outcome: Outcome) => void>();
  const handling = {
    invocations: { get: () => undefined },
    run: (entry: InFlight) =>
      new Promise<Outcome>((resolve) => {
        started.push(entry.messageId);
        runs.set(entry.messageId, resolve);
      }),
  } as unknown as Handling;
  const settled: string[] = [];
  const settle = {
    delete: (entry: InFlight) => Promise.resolve(void settled.push(`delete ${entry.messageId}`)),
    changeVisibility: (changes: readonly VisibilityChange[]) =>
      Promise.resolve(void settled.push(changes.map((c) => `${c.reason} ${c.message.messageId}`).join(", "))),
    deletedEarlier: () => false,
  } as unknown as Settlement;
  const d = new Dispatcher(ctx, slots, handling, settle);
  const finish = async (id: string, failure?: HandlerFailure) => {
    runs.get(id)!({ failure, processSpan: undefined });
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  const receive = async (messages: Message[]) => {
    const reserved = await slots.reserve(messages.length);
    d.dispatch(messages, Date.now(), ROOT_CONTEXT, reserved);
  };
  return { d, slots, started, settled, finish, receive, stop };
}

describe("dispatch: what becomes of each message a receive brought", () => {
  const failed: HandlerFailure = { reason: "error", error: new Error("failed") };

  test("FIFO: one message per group runs; success deletes it and starts the next; a failure sends it and the rest of its group back in one change", async () => {
    const { d, slots, started, settled, finish, receive } = dispatcher(true);
    await receive([sqsMessage("a1", "a"), sqsMessage("a2", "a"), sqsMessage("b1", "b"), sqsMessage("a3", "a")]);
    assert.deepEqual(started, ["a1", "b1"]);
    assert.equal(d.inFlight.size, 4);
    assert.equal(slots.free, 8, "the slots of the messages waiting behind their group are freed at once");
    await finish("a1");
    assert.deepEqual(started, ["a1", "b1", "a2"]);
    await finish("a2", failed);
    assert.deepEqual(settled, ["delete a1", "failed a2, group a3"]);
    assert.deepEqual(
      [...d.inFlight].map((m) => m.messageId),
      ["b1"],
    );
  });

  test("a damaged message mid-group is refused, and its group's later messages in the receive become visible again behind it", async () => {
    const { started, settled, receive } = dispatcher(true);
    await receive([sqsMessage("a1", "a", true), sqsMessage("a2", "a"), sqsMessage("b1", "b")]);
    assert.deepEqual(started, ["b1"]);
    assert.deepEqual(settled, ["refused a1", "group a2"]);
  });

  test("standard queue: group ids serialize nothing, and a failure sends back only the failed message", async () => {
    const { started, settled, finish, receive } = dispatcher(false);
    await receive([sqsMessage("a1", "a"), sqsMessage("a2", "a")]);
    assert.deepEqual(started, ["a1", "a2"]);
    await finish("a1", failed);
    assert.deepEqual(settled, ["failed a1"]);
  });

  test("what a receive brings once shutdown began is not started: its visibility changes for shutdown, its slots are freed", async () => {
    const { slots, started, settled, receive, stop } = dispatcher(false);
    stop();
    await receive([sqsMessage("m1"), sqsMessage("m2")]);
    assert.deepEqual(started, []);
    assert.deepEqual(settled, ["shutdown m1, shutdown m2"]);
    assert.equal(slots.free, 10);
  });
});
