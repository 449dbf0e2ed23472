import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import type { EmulatorApp } from "../local/emulator";
import { createSqsClient } from "../src/sqs-client";
import { killConsumers, probe, spawnConsumer } from "./helpers/consumer-process";
import type { LogLine } from "./helpers/log-capture";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const fixture = join(__dirname, "fixtures", "slow-consumer.ts");
const bodies = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const handledBodies = (lines: readonly LogLine[]) =>
  lines.filter((l) => l.event === "handled").map((l) => String(l.body));

describe("shutdown", () => {
  let bed: TestBed;
  beforeEach(async () => (bed = await startTestBed()));
  afterEach(async () => {
    await killConsumers();
    await bed.close();
  });

  test("SIGTERM mid-load: in-flight messages finish and are deleted, exit 0 within the budget, nothing lost or duplicated", async () => {
    const n = 300;
    await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(n));
    const env = { ...bed.env, HANDLER_CONCURRENCY: "20", HANDLER_DELAY_MS: "100", SHUTDOWN_BUDGET_SECONDS: "5" };
    const first = spawnConsumer(fixture, env);
    await eventually(() => handledBodies(first.lines).length >= 60, 20_000, "60 handled messages");
    const signalledAt = Date.now();
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    assert.equal(exit.code, 0, first.stray.join(""));
    assert.ok(exit.at - signalledAt < 5_000, `exit took ${exit.at - signalledAt} ms, budget 5000`);
    const stopping = first.lines.find((l) => l.event === "stopping");
    assert.ok(Number(stopping?.inFlight) > 0, "SIGTERM should arrive while messages are in flight");
    assert.equal(first.lines.at(-1)?.event, "stopped");

    const second = spawnConsumer(fixture, env);
    const expected = n - handledBodies(first.lines).length;
    await eventually(
      () => handledBodies(second.lines).length >= expected,
      20_000,
      `the remaining ${expected} messages`,
    );
    await eventually(
      async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
      5_000,
      "the last deletes",
    );
    second.child.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);

    const all = [...handledBodies(first.lines), ...handledBodies(second.lines)];
    assert.equal(new Set(all).size, n, "every message handled");
    assert.equal(all.length, n, `duplicates: ${all.length - n}`);
    assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 0, inFlight: 0 });
  });

  test("handlers that outlast the budget are abandoned: their messages are visible again at once and the process exits 0 in time", async () => {
    await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(5));
    // A 1 s long poll: the receive it hangs up on runs out within the 3 s budget, so the change is not lost to it.
    const consumer = spawnConsumer(fixture, {
      ...bed.env,
      HANDLER_DELAY_MS: "60000",
      SHUTDOWN_BUDGET_SECONDS: "3",
      VISIBILITY_TIMEOUT_SECONDS: "600",
      WAIT_TIME_SECONDS: "1",
    });
    const port = await consumer.healthPort();
    await eventually(
      async () => /^sqs_consumer_messages_in_flight 5$/m.test((await probe(port, "/metrics")).body),
      10_000,
      "5 handlers running",
    );
    const signalledAt = Date.now();
    consumer.child.kill("SIGTERM");
    const exit = await consumer.exited;
    assert.equal(exit.code, 0);
    assert.ok(exit.at - signalledAt < 3_000, `exit took ${exit.at - signalledAt} ms, budget 3000`);
    const stopped = consumer.lines.find((l) => l.event === "stopped");
    assert.deepEqual([stopped?.unfinished, stopped?.visibilityChanged, stopped?.stillHidden], [5, 5, 0]);
    // Without the change they would stay invisible for the 600 s visibility timeout.
    assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 5, inFlight: 0 });
  });

  test("SIGKILL mid-load, then restart: every message is still handled", async () => {
    const n = 200;
    await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(n));
    const env = { ...bed.env, HANDLER_CONCURRENCY: "20", HANDLER_DELAY_MS: "50", VISIBILITY_TIMEOUT_SECONDS: "5" };
    const first = spawnConsumer(fixture, env);
    await eventually(() => handledBodies(first.lines).length >= 40, 20_000, "40 handled messages");
    first.child.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");
    const second = spawnConsumer(fixture, env);
    const all = () => new Set([...handledBodies(first.lines), ...handledBodies(second.lines)]);
    // Messages the killed process held come back after their 5 s visibility timeout.
    await eventually(() => all().size === n, 30_000, `all ${n} messages handled`);
    await eventually(
      async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
      5_000,
      "the last deletes",
    );
    second.child.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
    const duplicates = handledBodies(first.lines).length + handledBodies(second.lines).length - n;
    assert.ok(
      duplicates <= 20 + 10,
      `${duplicates} duplicates: more than were in flight or awaiting deletion at the kill`,
    );
    assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 0, inFlight: 0 });
  });
});

describe("shutdown, the consumer in process", () => {
  test("a receive whose answer is on its way at shutdown: its messages are visible again at once, not hidden for a visibility timeout", async () => {
    // The emulator hands out the messages at once but holds the answer back: as over a slow network.
    let holdReceives = false;
    const bed = await startTestBed({
      configure: (app: EmulatorApp) =>
        app.addHook("onSend", (request, _reply, payload, done) => {
          if (holdReceives && request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage")
            setTimeout(() => done(null, payload), 500);
          else done(null, payload);
        }),
    });
    const handled: string[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: { RECEIVE_LOOPS: "1", VISIBILITY_TIMEOUT_SECONDS: "600" },
      handler: (m) => Promise.resolve(void handled.push(m.body)),
    });
    try {
      await eventually(() => running.consumer.readiness.ready, 5_000, "the first receive");
      holdReceives = true;
      await sendMessages(bed.sqs, bed.queue.queueUrl, bodies(5));
      const depth = async () => (await bed.emulator.queueDepths()).get(bed.queue.queueUrl.split("/").at(-1)!);
      await eventually(async () => (await depth())?.inFlight === 5, 5_000, "the open long poll to take the messages");
      await running.stop();
      assert.deepEqual(handled, [], "no message is started once shutdown has begun");
      const [stopped] = logs.find((l) => l.event === "stopped");
      assert.deepEqual([stopped?.notStarted, stopped?.visibilityChanged, stopped?.stillHidden], [5, 5, 0]);
      // Hung up on at once, the receive's messages would stay hidden for the 600 s visibility timeout.
      assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 5, inFlight: 0 });
    } finally {
      await running.stop();
      await bed.close();
    }
  });
});

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

  test("a receive that answers after shutdown's visibility changes began: its messages still become visible again before stop returns, and counted", async () => {
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
      // Shutdown's visibility changes begin by 8 s (the budget less its 2 s reserve); the answer comes after that.
      await sleep(8_500);
      answer!();
      await stopping;
      assert.deepEqual(handled, []);
      const [stopped] = logs.find((l) => l.event === "stopped");
      assert.deepEqual(
        [stopped?.notStarted, stopped?.visibilityChanged, stopped?.stillHidden],
        [5, 5, 0],
        "the stopped line counts the messages not started whose visibility changed",
      );
      // Left as they were, they would stay hidden for the 600 s visibility timeout.
      assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 5, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });

  test("handlers cut off by the end of the shutdown budget count as failed with reason shutdown, and their visibility as changed", async () => {
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
        .filter((line) => /^sqs_consumer_(messages_failed|visibility_changes)_total/.test(line));
      assert.deepEqual(counters, [
        'sqs_consumer_messages_failed_total{reason="shutdown"} 3',
        'sqs_consumer_visibility_changes_total{reason="shutdown"} 3',
      ]);
      const [stopped] = logs.find((l) => l.event === "stopped");
      assert.deepEqual([stopped?.unfinished, stopped?.visibilityChanged, stopped?.stillHidden], [3, 3, 0]);
      assert.deepEqual(await queueCounts(bed.sqs, bed.queue.queueUrl), { visible: 3, inFlight: 0 });
    } finally {
      await running.stop();
    }
  });
});
