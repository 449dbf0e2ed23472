import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { killConsumers, spawnConsumer } from "./helpers/consumer-process";
import { fifoBeds } from "./helpers/fifo-test-bed";
import { HandlerJournal } from "./helpers/handler-journal";
import type { LogLine } from "./helpers/log-capture";
import { eventually } from "./helpers/queue";
import { startTestConsumer } from "./helpers/test-bed";

const fixture = join(__dirname, "fixtures", "fifo-consumer.ts");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe("FIFO queues (against the FIFO stand-in)", () => {
  const bed = fifoBeds();
  afterEach(() => killConsumers());

  test("the issue's case: m1 slow, m2 fails once; the group succeeds in order m1..m5, one at a time", async () => {
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

  test("a failure mid-group: the messages behind it wait, are given back, and the group is redelivered in order", async () => {
    const b = await bed();
    const journal = new HandlerJournal();
    let failuresLeft = 2;
    const { running } = await startTestConsumer(b, {
      env: { RETRY_BASE_SECONDS: "1", RETRY_MAX_SECONDS: "1", WAIT_TIME_SECONDS: "1" },
      handler: (m) =>
        journal.run(m, async () => {
          await sleep(20);
          if (m.body === "a-m4" && failuresLeft-- > 0) throw new Error("a-m4 fails twice");
        }),
    });
    try {
      await b.send("a", range("a-m", 10));
      await b.send("b", range("b-m", 10));
      await eventually(() => journal.succeeded.length === 20, 20_000, "20 successes");
      assert.deepEqual(journal.successesOf("a"), range("a-m", 10));
      assert.deepEqual(journal.successesOf("b"), range("b-m", 10), "the other group is not held up");
      assert.deepEqual(
        journal.started.filter((body) => body.startsWith("a-")),
        ["a-m1", "a-m2", "a-m3", "a-m4", "a-m4", "a-m4", ...range("a-m", 10).slice(4)],
      );
      assert.equal(journal.peakPerGroup, 1);
      const redelivered = journal.received.find((m) => m.body === "a-m5")!;
      assert.ok(redelivered.receiveCount >= 2, "a-m5 was given back and received again");
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

  test("SIGTERM mid-group: the running message finishes, the rest of the group goes back and is handled next, in order, once", async () => {
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
});
