/**
 * FIFO order per message group (docs/CONSUMER.md, "FIFO queues"), against the FIFO stand-in (helpers/fifo-sqs.ts):
 * order and parallelism, failures at either end of a receive or in two groups at once, a timeout instead
 * of a throw, a damaged message mid-group, a group spread over receives, tight concurrency,
 * MAX_MESSAGES=1, shutdown with groups waiting, fair queues, a poison message mid-group, a lost receive
 * answer and throttling, odd group ids, a head that outlives the visibility timeout.
 */
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { killConsumers, spawnConsumer } from "./helpers/consumer-process";
import { fifoBeds, type FifoTestBed } from "./helpers/fifo-test-bed";
import { HandlerJournal } from "./helpers/handler-journal";
import type { LogLine } from "./helpers/log-capture";
import { eventually } from "./helpers/queue";
import { startTestConsumer } from "./helpers/test-bed";

const fixture = join(__dirname, "fixtures", "fifo-consumer.ts");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** Fast retries and short polls, so failures come back within a second or two. */
const FAST = { RETRY_BASE_SECONDS: "1", RETRY_MAX_SECONDS: "1", WAIT_TIME_SECONDS: "1" };

/** Bodies in the DLQ (a FIFO DLQ hands out up to 10 of a group per receive; the bed's groups are small). */
async function deadLettered(b: FifoTestBed): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { Messages = [] } = await b.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: b.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    bodies.push(...Messages.map((m) => m.Body!));
    if (Messages.length === 0) break;
  }
  return bodies.sort();
}

describe("FIFO queues (against the FIFO stand-in)", () => {
  const bed = fifoBeds();
  afterEach(() => killConsumers());

  test("m1 slow, m2 fails once: the group succeeds in order m1..m5, one at a time", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    let m2Failures = 0;
    const { running, logs } = await startTestConsumer(b, {
      env: { RETRY_BASE_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
      handler: (m) =>
        journal.run(m, async () => {
          if (m.body === "g1-m1") await sleep(300);
          if (m.body === "g1-m2" && m2Failures++ === 0) throw new Error("m2 fails on its first receive");
        }),
    });
    try {
      await b.send("g1", range("g1-m", 5));
      await eventually(() => journal.succeeded.length === 5, 15_000, "5 successes");
      assert.deepEqual(journal.succeeded, range("g1-m", 5));
      assert.deepEqual(journal.started, ["g1-m1", "g1-m2", "g1-m2", "g1-m3", "g1-m4", "g1-m5"]);
      assert.equal(journal.peakPerGroup, 1);
      const first = journal.received[0]!;
      assert.equal(first.groupId, "g1");
      assert.equal(first.deduplicationId, "g1-m1");
      assert.match(first.sequenceNumber ?? "", /^\d+$/);
      assert.ok(
        BigInt(journal.received[1]!.sequenceNumber!) > BigInt(first.sequenceNumber!),
        "sequence numbers increase within the group",
      );
      assert.equal(logs.find((l) => l.event === "config")[0]?.queueType, "fifo");
      await eventually(
        () => b.stand.depth(b.queueName).inFlight === 0 && b.stand.depth(b.queueName).visible === 0,
        5_000,
        "all deletes",
      );
    } finally {
      await running.stop();
    }
  });

  test("100 groups x 50 messages with random handler delays: order per group, groups in parallel, each once", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const groups = Array.from({ length: 100 }, (_, i) => `g${i}`);
    for (const group of groups) await b.send(group, range(`${group}-m`, 50));
    const { running } = await startTestConsumer(b, {
      env: { RECEIVE_LOOPS: "4" },
      handler: (m) => journal.run(m, async () => void (await sleep(Math.random() * 5))),
    });
    try {
      await eventually(() => journal.succeeded.length >= 5_000, 120_000, "5000 successes");
      for (const group of groups)
        assert.deepEqual(journal.successesOf(group), range(`${group}-m`, 50), `order of ${group}`);
      assert.equal(journal.started.length, 5_000, "a message was handled twice");
      assert.equal(journal.peakPerGroup, 1, "two messages of one group ran at once");
      assert.ok(
        journal.peakOverall >= 10,
        `groups should run in parallel; at most ${journal.peakOverall} handlers ran at once`,
      );
    } finally {
      await running.stop();
    }
  });

  test("a receive whose answer is lost is retried with the same attempt id and gets the same messages at once", async () => {
    let lostAttemptId: string | undefined;
    const b = await bed({
      visibilityTimeoutSeconds: 30,
      loseAnswer: (request, output) => {
        if (lostAttemptId !== undefined || request.operation !== "ReceiveMessage" || output.Messages === undefined)
          return false;
        lostAttemptId = String(request.input.ReceiveRequestAttemptId);
        return true;
      },
    });
    await b.send("g1", range("g1-m", 5));
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "30" },
      handler: (m) => journal.run(m, () => Promise.resolve()),
    });
    try {
      // Without the attempt id the group stays locked for the 30 s visibility timeout.
      await eventually(() => journal.succeeded.length === 5, 10_000, "5 successes well before the visibility timeout");
      assert.deepEqual(journal.succeeded, range("g1-m", 5));
      const lost = b.stand.receives.find((r) => !r.replayed && r.messageIds.length > 0)!;
      const replay = b.stand.receives.find((r) => r.replayed);
      assert.ok(replay, "no receive was retried with the lost receive's attempt id");
      assert.equal(replay.attemptId, lostAttemptId);
      assert.deepEqual(replay.messageIds, lost.messageIds);
    } finally {
      await running.stop();
    }
  });

  test("on a standard queue MessageGroupId (fair queues) serializes nothing", async () => {
    const b = await bed({ fifo: false });
    const journal = new HandlerJournal();
    const { running, logs } = await startTestConsumer(b, {
      handler: (m) => journal.run(m, async () => void (await sleep(200))),
    });
    try {
      await b.send("tenant-1", range("tenant-1-m", 20));
      await eventually(() => journal.succeeded.length === 20, 10_000, "20 successes");
      assert.equal(journal.received[0]!.groupId, "tenant-1");
      assert.ok(
        journal.peakPerGroup >= 5,
        `messages of one fair-queue group should run in parallel; at most ${journal.peakPerGroup} did`,
      );
      assert.equal(logs.find((l) => l.event === "config")[0]?.queueType, "standard");
    } finally {
      await running.stop();
    }
  });

  test("SIGTERM mid-group: the running message finishes, the rest of the group becomes visible again and is handled next, in order, once", async () => {
    const b = await bed();
    await b.send("g", range("g-m", 10));
    const env = { ...b.env, HANDLER_DELAY_MS: "300", SHUTDOWN_BUDGET_SECONDS: "5", WAIT_TIME_SECONDS: "1" };
    const handled = (lines: readonly LogLine[]) =>
      lines.filter((l) => l.event === "handled").map((l) => String(l.body));
    const first = spawnConsumer(fixture, env);
    await eventually(() => handled(first.lines).length >= 2, 15_000, "2 handled messages");
    first.child.kill("SIGTERM");
    assert.equal((await first.exited).code, 0, first.stray.join(""));
    const events = first.lines.filter((l) => l.event === "started" || l.event === "handled");
    let runningNow = 0;
    for (const line of events) {
      runningNow += line.event === "started" ? 1 : -1;
      assert.ok(
        runningNow <= 1,
        `two messages of the group ran at once: ${events.map((l) => `${String(l.event)} ${String(l.body)}`).join(", ")}`,
      );
    }
    const second = spawnConsumer(fixture, env);
    await eventually(
      () => handled(first.lines).length + handled(second.lines).length >= 10,
      20_000,
      "the rest of the group",
    );
    await eventually(() => b.stand.depth(b.queueName).inFlight === 0, 5_000, "the last deletes");
    second.child.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
    assert.deepEqual([...handled(first.lines), ...handled(second.lines)], range("g-m", 10));
  });

  test("the in-flight gauge counts a group's waiting messages, and its help text says it does", async () => {
    const b = await bed();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let running = 0;
    const { running: consumer } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1" },
      handler: async () => {
        running++;
        await gate;
        running--;
      },
    });
    try {
      await b.send("g1", ["g1-m1", "g1-m2", "g1-m3"]);
      const metrics = async () => (await fetch(`http://127.0.0.1:${consumer.healthPort}/metrics`)).text();
      await eventually(
        async () => /^sqs_consumer_messages_in_flight 3$/m.test(await metrics()),
        10_000,
        "3 messages held",
      );
      assert.equal(running, 1, "one handler runs; the group's other two wait behind it");
      const help = /^# HELP sqs_consumer_messages_in_flight (.*)$/m.exec(await metrics())?.[1] ?? "";
      assert.match(help, /FIFO/);
      assert.match(help, /wait(ing)? behind/);
      assert.doesNotMatch(help, /^Messages being handled now\.$/);
    } finally {
      openGate();
      await consumer.stop();
    }
  });
});

describe("FIFO queues: failures, timeouts, damage, tight limits and odd groups (against the FIFO stand-in)", () => {
  const bed = fifoBeds();

  test("the LAST message of a receive fails once: it alone is retried, after the rest, in order", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    let failures = 0;
    const { running } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(10);
          if (m.body === "g-m5" && failures++ === 0) throw new Error("the last one fails once");
        }),
    });
    try {
      await b.send("g", range("g-m", 5));
      await eventually(() => journal.succeeded.length === 5, 15_000, "5 successes");
      assert.deepEqual(journal.succeeded, range("g-m", 5));
      assert.deepEqual(journal.started, [...range("g-m", 5), "g-m5"]);
      assert.equal(journal.peakPerGroup, 1);
    } finally {
      await running.stop();
    }
  });

  test("the FIRST message of a receive fails once: nothing behind it runs until it succeeds", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    let failures = 0;
    const { running } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(10);
          if (m.body === "g-m1" && failures++ === 0) throw new Error("the first one fails once");
        }),
    });
    try {
      await b.send("g", range("g-m", 5));
      await eventually(() => journal.succeeded.length === 5, 15_000, "5 successes");
      assert.deepEqual(journal.succeeded, range("g-m", 5));
      assert.deepEqual(journal.started, ["g-m1", ...range("g-m", 5)]);
      assert.ok(
        journal.received.find((m) => m.body === "g-m5")!.receiveCount >= 2,
        "g-m5 became visible again behind g-m1 and was received again",
      );
    } finally {
      await running.stop();
    }
  });

  test("two groups fail at once, mid-group: each is redelivered in its own order, neither holds up the other's later messages", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const failOnce = new Set(["a-m2", "b-m3"]);
    const { running } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(30);
          if (failOnce.delete(m.body)) throw new Error(`${m.body} fails once`);
        }),
    });
    try {
      await b.send("a", range("a-m", 6));
      await b.send("b", range("b-m", 6));
      await b.send("c", range("c-m", 6));
      await eventually(() => journal.succeeded.length === 18, 20_000, "18 successes");
      for (const g of ["a", "b", "c"])
        assert.deepEqual(journal.of(journal.succeeded, `${g}-`), range(`${g}-m`, 6), `order of ${g}`);
      assert.deepEqual(journal.of(journal.started, "a-"), ["a-m1", "a-m2", ...range("a-m", 6).slice(1)]);
      assert.deepEqual(journal.of(journal.started, "b-"), ["b-m1", "b-m2", "b-m3", ...range("b-m", 6).slice(2)]);
      assert.equal(journal.peakPerGroup, 1);
    } finally {
      await running.stop();
    }
  });

  test("a handler past its TIMEOUT mid-group (it ignores its signal): its group waits for its outcome, nothing overtakes it, and it runs once", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    let slowRuns = 0;
    const { running, logs } = await startTestConsumer(b, {
      env: { ...FAST, HANDLER_TIMEOUT_SECONDS: "1" },
      handler: (m) =>
        journal.run(m, async () => {
          // Its first run ignores the abort signal, outlives the 1 s limit by far, then succeeds.
          if (m.body === "g-m2" && slowRuns++ === 0) await sleep(2_500);
        }),
    });
    try {
      await b.send("g", range("g-m", 5));
      await logs.waitFor((l) => l.event === "handler-abandoned", 10_000, "the abandoned handler");
      await eventually(() => journal.started.length === 5 && journal.succeeded.length === 5, 20_000, "5 runs ended");
      assert.deepEqual(journal.started, ["g-m1", "g-m2", "g-m3", "g-m4", "g-m5"]);
      assert.equal(journal.peakPerGroup, 1, `two runs of the group overlapped: ${JSON.stringify(journal.events)}`);
      assert.deepEqual(
        logs.find((l) => l.event === "handler-failed"),
        [],
        "settled as failed though it succeeded",
      );
    } finally {
      await running.stop();
    }
  });

  test("a message whose body was damaged on the way, mid-group: not handled, and nothing behind it overtakes it", async () => {
    let damaged = false;
    const b = await bed({
      alterAnswer: (request, output) => {
        const messages = output.Messages as { Body: string; MD5OfBody: string }[] | undefined;
        const m3 = messages?.find((m) => m.Body === "g-m3");
        if (damaged || request.operation !== "ReceiveMessage" || m3 === undefined) return;
        damaged = true;
        m3.MD5OfBody = createHash("md5").update("something else").digest("hex");
      },
    });
    const journal = new HandlerJournal();
    const { running, logs } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) => journal.run(m, () => sleep(20)),
    });
    try {
      await b.send("g", range("g-m", 6));
      await eventually(() => journal.succeeded.length === 6, 20_000, "6 successes");
      assert.ok(damaged, "the stand-in damaged g-m3");
      assert.equal(logs.find((l) => l.event === "checksum-mismatch").length, 1);
      assert.deepEqual(
        journal.started,
        range("g-m", 6),
        "g-m3 ran only once it came back intact, and nothing overtook it",
      );
    } finally {
      await running.stop();
    }
  });

  test("a group of 25 spread over three receives of 10: in order, and no receive of it while earlier ones are held", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(5)),
    });
    try {
      await b.send("g", range("g-m", 25));
      await eventually(() => journal.succeeded.length === 25, 20_000, "25 successes");
      assert.deepEqual(journal.succeeded, range("g-m", 25));
      const carrying = b.stand.receives.filter((r) => r.messageIds.length > 0);
      assert.ok(carrying.length >= 3, `${carrying.length} receives carried the group`);
      assert.equal(
        journal.received.filter((m) => m.receiveCount > 1).length,
        0,
        "no message of the group was received twice",
      );
    } finally {
      await running.stop();
    }
  });

  test("HANDLER_CONCURRENCY=1 with 20 groups: one handler at a time in all, order per group, each message once", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const groups = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const g of groups) await b.send(g, range(`${g}-m`, 5));
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "1", WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(2)),
    });
    try {
      await eventually(() => journal.succeeded.length === 100, 60_000, "100 successes");
      for (const g of groups)
        assert.deepEqual(journal.of(journal.succeeded, `${g}-`), range(`${g}-m`, 5), `order of ${g}`);
      assert.equal(journal.started.length, 100);
      assert.equal(journal.peakOverall, 1, "HANDLER_CONCURRENCY=1 is a hard limit");
    } finally {
      await running.stop();
    }
  });

  test("HANDLER_CONCURRENCY=2 with whole groups waiting in memory: never more than 2 handlers, order per group", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const groups = Array.from({ length: 8 }, (_, i) => `w${i}`);
    for (const g of groups) await b.send(g, range(`${g}-m`, 10));
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "2", RECEIVE_LOOPS: "3", WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(Math.random() * 5)),
    });
    try {
      await eventually(() => journal.succeeded.length === 80, 30_000, "80 successes");
      for (const g of groups)
        assert.deepEqual(journal.of(journal.succeeded, `${g}-`), range(`${g}-m`, 10), `order of ${g}`);
      assert.ok(
        journal.peakOverall <= 2,
        `${journal.peakOverall} handlers ran at once; HANDLER_CONCURRENCY=2 is a hard limit`,
      );
      assert.equal(journal.peakPerGroup, 1);
    } finally {
      await running.stop();
    }
  });

  test("HANDLER_CONCURRENCY=10 with the default 2 loops of 10: 3 groups of 30 drain completely", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    for (const g of ["d0", "d1", "d2"]) await b.send(g, range(`${g}-m`, 30));
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "10", WAIT_TIME_SECONDS: "2" },
      handler: (m) => journal.run(m, () => sleep(5)),
    });
    try {
      await eventually(() => journal.succeeded.length === 90, 20_000, "90 successes");
      for (const g of ["d0", "d1", "d2"])
        assert.deepEqual(journal.of(journal.succeeded, `${g}-`), range(`${g}-m`, 30), `order of ${g}`);
    } finally {
      await running.stop();
    }
  });

  test("RECEIVE_LOOPS=1, HANDLER_CONCURRENCY=2: after a group whose messages waited in memory, the consumer still receives", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: { HANDLER_CONCURRENCY: "2", RECEIVE_LOOPS: "1", WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(20)),
    });
    try {
      await b.send("a", range("a-m", 10));
      await eventually(() => journal.succeeded.length === 10, 15_000, "group a");
      await b.send("b", range("b-m", 3));
      const receivesBefore = b.stand.receives.length;
      await eventually(() => journal.succeeded.length === 13, 10_000, "group b, sent later");
      assert.ok(b.stand.receives.length > receivesBefore);
    } finally {
      await running.stop();
    }
  });

  test("MAX_MESSAGES=1: one message per receive, order per group, groups still in parallel", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const groups = ["p", "q", "r", "s"];
    for (const g of groups) await b.send(g, range(`${g}-m`, 6));
    const { running } = await startTestConsumer(b, {
      env: { MAX_MESSAGES: "1", RECEIVE_LOOPS: "4", WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(100)),
    });
    try {
      await eventually(() => journal.succeeded.length === 24, 30_000, "24 successes");
      for (const g of groups)
        assert.deepEqual(journal.of(journal.succeeded, `${g}-`), range(`${g}-m`, 6), `order of ${g}`);
      assert.ok(
        b.stand.receives.every((r) => r.messageIds.length <= 1),
        "a receive asked for more than MAX_MESSAGES",
      );
      assert.ok(journal.peakOverall >= 2, `groups should run in parallel; at most ${journal.peakOverall} did`);
    } finally {
      await running.stop();
    }
  });

  test("stop with 5 groups holding waiting messages: each group continues in the next consumer where it stopped, each message once", async () => {
    const b = await bed();
    const groups = ["s1", "s2", "s3", "s4", "s5"];
    for (const g of groups) await b.send(g, range(`${g}-m`, 8));
    const first = new HandlerJournal();
    const env = { WAIT_TIME_SECONDS: "1", SHUTDOWN_BUDGET_SECONDS: "5" };
    const one = await startTestConsumer(b, { env, handler: (m) => first.run(m, () => sleep(300)) });
    await eventually(() => first.succeeded.length >= 5, 15_000, "5 successes");
    await one.running.stop();
    const second = new HandlerJournal();
    const two = await startTestConsumer(b, { env, handler: (m) => second.run(m, () => sleep(10)) });
    try {
      await eventually(() => first.succeeded.length + second.succeeded.length >= 40, 30_000, "40 successes in all");
      for (const g of groups) {
        assert.deepEqual(
          [...first.of(first.succeeded, `${g}-`), ...second.of(second.succeeded, `${g}-`)],
          range(`${g}-m`, 8),
          `order of ${g} across the two consumers`,
        );
      }
      assert.equal(first.started.length + second.started.length, 40, "a message was handled twice");
    } finally {
      await two.running.stop();
    }
  });

  test("a standard queue (fair queues): a failure in a group holds nothing back, and the group runs in parallel", async () => {
    const b = await bed({ fifo: false });
    const journal = new HandlerJournal();
    let failures = 0;
    const { running } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(100);
          if (m.body === "t-m2" && failures++ === 0) throw new Error("fails once");
        }),
    });
    try {
      await b.send("t", range("t-m", 10));
      await eventually(() => journal.succeeded.length === 10, 15_000, "10 successes");
      assert.notEqual(
        journal.succeeded.at(-1),
        "t-m10",
        "t-m2's retry should come after the others, which did not wait for it",
      );
      assert.equal(journal.succeeded.at(-1), "t-m2");
      assert.ok(journal.peakPerGroup >= 3, `fair-queue group ran at most ${journal.peakPerGroup} at once`);
      assert.equal(
        journal.received.filter((m) => m.body !== "t-m2" && m.receiveCount > 1).length,
        0,
        "no other message of the group became visible again",
      );
    } finally {
      await running.stop();
    }
  });

  test("odd group ids (128 characters, __proto__, constructor, case, punctuation, non-ASCII): each its own group, in order", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    const groups = ["x".repeat(128), "__proto__", "constructor", "Case", "case", "a/b:c#d", "grüppe"];
    for (const g of groups) await b.send(g, range(`${g}|m`, 5));
    const { running } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => sleep(50)),
    });
    try {
      await eventually(() => journal.succeeded.length === 35, 20_000, "35 successes");
      for (const g of groups) {
        assert.deepEqual(
          journal.succeeded.filter((body) => body.startsWith(`${g}|`)),
          range(`${g}|m`, 5),
          `order of ${g}`,
        );
        assert.equal(journal.received.find((m) => m.body === `${g}|m1`)!.groupId, g);
      }
      assert.equal(journal.peakPerGroup, 1);
      assert.ok(journal.peakOverall >= 3, `groups should run in parallel; at most ${journal.peakOverall} did`);
    } finally {
      await running.stop();
    }
  });

  test("a head that outlives the visibility timeout: the messages waiting behind it stay invisible (received once each)", async () => {
    const b = await bed({ visibilityTimeoutSeconds: 5 });
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: { WAIT_TIME_SECONDS: "1", VISIBILITY_TIMEOUT_SECONDS: "5", HANDLER_TIMEOUT_SECONDS: "30" },
      handler: (m) => journal.run(m, () => sleep(m.body === "g-m1" ? 8_000 : 10)),
    });
    try {
      await b.send("g", range("g-m", 5));
      await eventually(() => journal.succeeded.length === 5, 30_000, "5 successes");
      assert.deepEqual(journal.succeeded, range("g-m", 5));
      assert.deepEqual(
        journal.received.map((m) => m.receiveCount),
        [1, 1, 1, 1, 1],
        "a waiting message lapsed and was received again",
      );
    } finally {
      await running.stop();
    }
  });

  // docs/CONSUMER.md, "FIFO queues": SQS counts every receive toward maxReceiveCount, and a FIFO receive hands out
  // the failing message together with the group-mates right behind it, so those reach the count with it.
  test("a poison message mid-group takes the group-mates received with it to the DLQ, unhandled; the message before it is handled", async () => {
    const b = await bed({ maxReceiveCount: 3 });
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: FAST,
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(10);
          if (m.body === "g-m2") throw new Error("poison");
        }),
    });
    try {
      await b.send("g", range("g-m", 5));
      await eventually(
        () => b.stand.depth(b.queueName).visible + b.stand.depth(b.queueName).inFlight === 0,
        30_000,
        "the group left the queue",
      );
      assert.deepEqual(
        { handled: journal.succeeded, deadLettered: await deadLettered(b) },
        { handled: ["g-m1"], deadLettered: ["g-m2", "g-m3", "g-m4", "g-m5"] },
      );
      assert.deepEqual(
        journal.of(journal.started, "g-m").filter((body) => body !== "g-m1" && body !== "g-m2"),
        [],
        "a message behind the failing one was handled out of order",
      );
      assert.equal(
        journal.started.filter((body) => body === "g-m2").length,
        3,
        "the poison message was not handled maxReceiveCount times",
      );
    } finally {
      await running.stop();
    }
  });

  test("MAX_MESSAGES=1 (the remedy in docs/CONSUMER.md): a poison message mid-group goes to the DLQ alone; the rest of its group is handled, in order", async () => {
    const b = await bed({ maxReceiveCount: 3 });
    const journal = new HandlerJournal();
    const { running } = await startTestConsumer(b, {
      env: { ...FAST, MAX_MESSAGES: "1" },
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(10);
          if (m.body === "g-m2") throw new Error("poison");
        }),
    });
    try {
      await b.send("g", range("g-m", 5));
      await eventually(() => journal.succeeded.length === 4, 30_000, "the four good messages");
      assert.deepEqual(
        { handled: journal.succeeded, deadLettered: await deadLettered(b) },
        { handled: ["g-m1", "g-m3", "g-m4", "g-m5"], deadLettered: ["g-m2"] },
      );
    } finally {
      await running.stop();
    }
  });

  test("a lost receive answer, then throttling: no receive reuses an attempt id SQS has voided, and the group is handled", async () => {
    let lostAttemptId: string | undefined;
    let throttled = false;
    const b = await bed({
      visibilityTimeoutSeconds: 5,
      loseAnswer: (request, output) => {
        if (lostAttemptId !== undefined || request.operation !== "ReceiveMessage" || output.Messages === undefined)
          return false;
        lostAttemptId = String(request.input.ReceiveRequestAttemptId);
        return true;
      },
      // The next receive that carries the lost answer's attempt id is throttled.
      throttle: (request) => {
        if (
          throttled ||
          request.operation !== "ReceiveMessage" ||
          lostAttemptId === undefined ||
          request.input.ReceiveRequestAttemptId !== lostAttemptId
        )
          return false;
        throttled = true;
        return true;
      },
    });
    await b.send("g1", range("g1-m", 5));
    const journal = new HandlerJournal();
    const { running, logs } = await startTestConsumer(b, {
      env: { VISIBILITY_TIMEOUT_SECONDS: "5", WAIT_TIME_SECONDS: "1" },
      handler: (m) => journal.run(m, () => Promise.resolve()),
    });
    try {
      await eventually(
        () => journal.succeeded.length === 5,
        20_000,
        "5 successes (after the 5 s visibility timeout at worst)",
      );
      assert.deepEqual(journal.succeeded, range("g1-m", 5));
      assert.equal(
        b.stand.refusals.filter((r) => r.code === "ThrottlingException").length,
        1,
        "the stand-in throttled the retry",
      );
      assert.deepEqual(
        b.stand.refusals.filter((r) => r.code === "InvalidParameterValue"),
        [],
        "a receive reused the attempt id of a throttled receive, which SQS rejects (docs/CONSUMER.md: 'After throttling the consumer draws a new id, as SQS requires')",
      );
      assert.deepEqual(
        logs.find((l) => l.event === "aws-error" && l.kind === "unknown").map((l) => l.error),
        [],
        "an error of unknown kind was logged",
      );
    } finally {
      await running.stop();
    }
  });
});
