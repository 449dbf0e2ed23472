import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { md5OfMessageAttributes, MessageGroups } from "../src/dispatch";

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
    assert.deepEqual(groups.abandon(a1), [a2, a3]);
    assert.equal(groups.waiting, 1);
    assert.deepEqual(groups.takeAllWaiting(), [b2]);
    assert.equal(groups.next(b1), undefined);
  });

  test("standard queues: group ids (fair queues) serialize nothing", () => {
    const groups = new MessageGroups<ReturnType<typeof m>>(false);
    const batch = [m("a1", "a"), m("a2", "a"), m("a3", "a")];
    assert.deepEqual(groups.admit(batch), batch);
    assert.equal(groups.next(batch[0]!), undefined);
    assert.deepEqual(groups.abandon(batch[1]!), []);
  });
});

describe("message digests", () => {
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
