import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import type { EmulatorApp } from "../local/emulator";
import { createSqsClient } from "../src/sqs-client";
import { probe } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const bodies = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("shutdown: what the stopped line and the metrics say is what happened", () => {
  let bed: TestBed;
  let answer: (() => void) | undefined;
  let holdReceives = false;
  beforeEach(async () => {
    holdReceives = false;
    // The emulator hands a receive its messages at once, and the test says when the answer leaves.
    bed = await startTestBed({
      configure: (app: EmulatorApp) =>
        app.addHook("onSend", (request, _reply, payload, done) => {
          if (holdReceives && request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage") {
            answer = () => {
              answer = undefined;
              done(null, payload);
            };
          } else done(null, payload);
        }),
    });
  });
  afterEach(async () => {
    answer?.();
    await bed.close();
  });

  test("a receive that answers after the release step began: its messages are still made visible before stop returns, and counted", async () => {
    // The consumer's first receive takes the messages, and its answer is held: its attempt deadline
    // (WAIT_TIME_SECONDS 20 + 5 s) is past the budget, so only the test ends the wait.
    holdReceives = true;
    await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(5));
    const handled: string[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: { RECEIVE_LOOPS: "1", VISIBILITY_TIMEOUT_SECONDS: "600", SHUTDOWN_BUDGET_SECONDS: "10" },
      handler: (m) => Promise.resolve(void handled.push(m.body)),
      // A client whose HTTP layer does not hear the hang-up: like a receive stuck where an abort does
      // not reach (a credential fetch, a custom handler), it answers whenever its peer does.
      sqs: (settings, env) => {
        const client = createSqsClient(settings, env);
        const inner = client.config.requestHandler as RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
        client.config.requestHandler = Object.assign(Object.create(inner) as typeof inner, {
          handle: (request: HttpRequest, options?: HttpHandlerOptions) =>
            inner.handle(request, { ...options, abortSignal: undefined }),
        });
        return client;
      },
    });
    try {
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 5 && answer !== undefined,
        5_000,
        "the open receive to take the messages",
      );
      const stopping = running.consumer.stop();
      // The release step begins at 8 s (the budget less its 2 s reserve); the answer comes after it.
      await sleep(8_500);
      answer!();
      await stopping;
      assert.deepEqual(handled, []);
      assert.equal(
        logs.find((l) => l.event === "stopped")[0]?.returned,
        5,
        "the stopped line counts the messages given back",
      );
      // Left as they were, they would stay hidden for the 600 s visibility timeout.
      assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 5, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });

  test("handlers cut off by the end of the shutdown budget count as failed with reason shutdown, and as released", async () => {
    const started: string[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "600", WAIT_TIME_SECONDS: "1", SHUTDOWN_BUDGET_SECONDS: "3" },
      // Honours its signal: it ends when shutdown gives up on it.
      handler: (m, { signal }) =>
        new Promise((_resolve, reject) => {
          started.push(m.body);
          signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
        }),
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(3));
      await eventually(() => started.length === 3, 5_000, "3 handlers running");
      await running.consumer.stop();
      const metrics = (await probe(running.healthPort, "/metrics")).body;
      const counters = metrics
        .split("\n")
        .filter((line) => /^sqs_consumer_messages_(failed|released)_total/.test(line));
      assert.deepEqual(counters, [
        'sqs_consumer_messages_failed_total{reason="shutdown"} 3',
        "sqs_consumer_messages_released_total 3",
      ]);
      assert.equal(logs.find((l) => l.event === "stopped")[0]?.released, 3);
      assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 3, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });
});
