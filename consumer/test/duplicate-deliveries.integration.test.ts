import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ReceiveMessageCommandOutput } from "@aws-sdk/client-sqs";
import { createSqsClient } from "../src/sqs-client";
import { fifoBeds } from "./helpers/fifo-test-bed";
import { eventually } from "./helpers/queue";
import { startTestConsumer } from "./helpers/test-bed";

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe("a message delivered again while the consumer holds it (against the FIFO stand-in)", () => {
  const bed = fifoBeds();

  test("FIFO: messages waiting behind their group's head are not handled twice, and the newest receipt handle deletes them", async () => {
    const b = await bed();
    const started: string[] = [];
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // The heartbeat cannot reach SQS for a while: the whole group turns visible and comes back.
    let changesFail = true;
    const { running, logs } = await startTestConsumer(b, {
      env: { RECEIVE_LOOPS: "1", WAIT_TIME_SECONDS: "1", VISIBILITY_TIMEOUT_SECONDS: "5" },
      handler: async (m) => {
        started.push(m.body);
        if (m.body === "g1-m1") await gate;
      },
      sqs: (settings, env) => {
        const client = createSqsClient(settings, env);
        client.middlewareStack.add(
          (next, context) => (args) => {
            if (changesFail && context.commandName === "ChangeMessageVisibilityBatchCommand")
              return Promise.reject(new Error("the heartbeat cannot reach SQS"));
            return next(args);
          },
          { step: "initialize", name: "heartbeatOutage" },
        );
        return client;
      },
    });
    try {
      await b.send("g1", range("g1-m", 3));
      await eventually(
        () => b.stand.receives.filter((r) => r.messageIds.length === 3).length >= 2,
        15_000,
        "the group to be delivered again",
      );
      await eventually(
        () => logs.find((l) => l.event === "duplicate-delivery").length >= 1,
        5_000,
        "the second delivery to be dispatched",
      );
      changesFail = false;
      openGate();
      await eventually(
        () => b.stand.depth(b.queueName).inFlight === 0 && b.stand.depth(b.queueName).visible === 0,
        10_000,
        "every message deleted",
      );
      assert.deepEqual(started, range("g1-m", 3), "each message handled once, in order");
      assert.deepEqual(
        logs.find((l) => l.event === "duplicate-delivery").map((l) => l.state),
        ["running", "waiting", "waiting"],
      );
      assert.equal(logs.find((l) => l.event === "delete-failed").length, 0, "a delete used a stale receipt handle");
    } finally {
      await running.stop();
    }
  });

  test("standard queue: the same message twice in one receive is handled once", async () => {
    const b = await bed({ fifo: false });
    const started: string[] = [];
    let doubled = false;
    const { running } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1" },
      handler: (m) => Promise.resolve(void started.push(m.body)),
      sqs: (settings, env) => {
        const client = createSqsClient(settings, env);
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const result = await next(args);
            const output = result.output as ReceiveMessageCommandOutput;
            if (context.commandName === "ReceiveMessageCommand" && !doubled && output.Messages?.length) {
              doubled = true;
              output.Messages = [...output.Messages, { ...output.Messages[0]! }];
            }
            return result;
          },
          { step: "initialize", name: "doubleDelivery" },
        );
        return client;
      },
    });
    try {
      await b.send("any", ["once"]);
      await eventually(
        () => b.stand.depth(b.queueName).inFlight === 0 && b.stand.depth(b.queueName).visible === 0 && doubled,
        10_000,
        "the message deleted",
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(started, ["once"]);
    } finally {
      await running.stop();
    }
  });
});
