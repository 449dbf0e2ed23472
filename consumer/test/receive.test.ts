import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { Capacity } from "../src/handle";
import { Readiness, type OpenReceive } from "../src/health";
import { ATTEMPT_ID_REUSE_MS, ReceiveAttempts, ReceiveLoops } from "../src/receive";
import { testContext } from "./helpers/context";

// Faults a receive loop must not hide, on the loops themselves with a stubbed SQS client.
test("a receive loop that ends before shutdown is logged, and /livez and /readyz fail", async () => {
  const message: Message = { MessageId: "m1", ReceiptHandle: "r1", Body: "b" };
  const sqs = { send: () => Promise.resolve({ Messages: [message] }) };
  const { ctx, logs, metrics, stop } = testContext(sqs, { env: { RECEIVE_LOOPS: "1", HANDLER_CONCURRENCY: "2" } });
  // Read only once the loops run, as the consumer wires it.
  const readiness = new Readiness(logs.logger, metrics, (): Iterable<OpenReceive> => loops.open);
  const loops: ReceiveLoops = new ReceiveLoops(ctx, new Capacity(2), readiness, () => {
    throw new Error("dispatch broke");
  });
  loops.start();
  try {
    await logs.waitFor((l) => l.event === "receive-loop-ended", 5_000, "receive-loop-ended");
    assert.equal(loops.live, false);
    assert.match(loops.reason, /dispatch broke/);
    assert.equal(readiness.ready, false);
    assert.match(readiness.reason, /receive loop ended.*dispatch broke/);
    readiness.succeeded();
    assert.equal(readiness.ready, false, "a later successful call made a consumer that no longer receives ready again");
  } finally {
    stop();
    await loops.ended();
  }
});

test("a receive loop that ends at shutdown is no fault", async () => {
  const sqs = {
    send: (_c: unknown, o: { abortSignal: AbortSignal }) =>
      new Promise((_r, reject) => o.abortSignal.addEventListener("abort", () => reject(new Error("aborted")))),
  } as unknown as SQSClient;
  const { ctx, logs, metrics, stop } = testContext(sqs, { env: { RECEIVE_LOOPS: "2", HANDLER_CONCURRENCY: "2" } });
  const capacity = new Capacity(2);
  const readiness = new Readiness(logs.logger, metrics);
  const loops = new ReceiveLoops(ctx, capacity, readiness, () => undefined);
  loops.start();
  // One loop long-polls with both slots, the other waits for slots.
  for (let turn = 0; turn < 20 && [...loops.open].length === 0; turn++)
    await new Promise((resolve) => setImmediate(resolve));
  assert.equal([...loops.open].length, 1, "a loop is in a long poll");
  readiness.stopping();
  capacity.close();
  stop();
  loops.hangUp();
  await loops.ended();
  assert.equal(loops.live, true);
  assert.deepEqual(
    logs.find((l) => l.event === "receive-loop-ended"),
    [],
  );
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
