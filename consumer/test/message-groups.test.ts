import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isFifoQueueUrl, MessageGroups } from "../src/message-groups";
import { ATTEMPT_ID_REUSE_MS, ReceiveAttempts } from "../src/receive-attempts";

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

  test("FIFO: a failure gives back what waited behind it, and only its own group's", () => {
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

  test("a queue is FIFO by its .fifo name", () => {
    assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"), true);
    assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/orders"), false);
    assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/fifo"), false);
  });
});

describe("receive attempt ids", () => {
  test("a new id per answered receive; the same id after a lost answer; a new one after throttling or 4 minutes", () => {
    const attempts = new ReceiveAttempts(true);
    const first = attempts.begin(10, 0);
    attempts.answered();
    const second = attempts.begin(10, 1);
    assert.notEqual(second.id, first.id);
    attempts.failed("network");
    assert.deepEqual(attempts.begin(10, 2), second, "retried after no answer");
    attempts.failed("server");
    assert.deepEqual(attempts.begin(7, 3).maxMessages, 7, "fewer slots than the lost receive asked for: a new receive");
    const third = attempts.begin(10, 4);
    attempts.failed("throttling");
    assert.notEqual(attempts.begin(10, 5).id, third.id);
    const fourth = attempts.begin(10, 10);
    attempts.failed("network");
    assert.notEqual(attempts.begin(10, 10 + ATTEMPT_ID_REUSE_MS).id, fourth.id);
  });

  test("standard queues send no attempt id", () => {
    assert.deepEqual(new ReceiveAttempts(false).begin(10), { id: undefined, maxMessages: 10 });
  });
});
