// Deletes and visibility changes of held messages: when each reason makes a message visible again, the
// heartbeat and changes at scale (against a stand-in SQS client that answers after a delay and records
// what was in flight at once), and shutdown's window.
import { afterEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { ChangeMessageVisibilityBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { inFlightEntry, type InFlight } from "../src/dispatch";
import { PARALLEL_BATCHES, RecentDeletes, retryDelaySeconds, Settlement } from "../src/settle";
import { testContext } from "./helpers/context";

/** A stand-in for the SQS client: every call succeeds after `delayMs`; records calls and overlap. */
class SlowSqs {
  readonly calls: { handles: string[]; seconds: number[]; startedAt: number; endedAt?: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** A receipt handle in two calls at once: two passes overlapped. */
  overlapping = 0;
  private readonly open = new Map<string, number>();

  constructor(private readonly delayMs: number) {}

  readonly send = async (command: ChangeMessageVisibilityBatchCommand, options?: { abortSignal?: AbortSignal }) => {
    const entries = command.input.Entries ?? [];
    const call = {
      handles: entries.map((e) => e.ReceiptHandle!),
      seconds: entries.map((e) => e.VisibilityTimeout!),
      startedAt: Date.now(),
    } as SlowSqs["calls"][number];
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    for (const h of call.handles) {
      if ((this.open.get(h) ?? 0) > 0) this.overlapping++;
      this.open.set(h, (this.open.get(h) ?? 0) + 1);
    }
    try {
      await new Promise<void>((resolve, reject) => {
        if (options?.abortSignal?.aborted) return reject(new Error("aborted"));
        const timer = setTimeout(resolve, this.delayMs);
        options?.abortSignal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            reject(new Error("aborted"));
          },
          { once: true },
        );
      });
    } finally {
      this.inFlight--;
      call.endedAt = Date.now();
      for (const h of call.handles) this.open.set(h, this.open.get(h)! - 1);
    }
    return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
  };
}

function settlement(sqs: SlowSqs, env: Record<string, string> = {}, visibilityTimeoutSeconds?: number) {
  const { ctx, logs, metrics } = testContext(sqs as unknown as Pick<SQSClient, "send">, {
    env,
    logLevel: "debug",
    ...(visibilityTimeoutSeconds === undefined ? {} : { settings: { visibilityTimeoutSeconds } }),
  });
  return { settlement: new Settlement(ctx), logs, metrics };
}

/** A held message received at `receivedAt` (ms since epoch), with its receive count. */
function held(id: string, receivedAt = Date.now(), receiveCount = 1, visibilityTimeoutSeconds = 30): InFlight {
  const raw = {
    MessageId: id,
    ReceiptHandle: `h-${id}`,
    Body: id,
    Attributes: { ApproximateReceiveCount: String(receiveCount) },
  };
  return inFlightEntry(raw, receivedAt, ROOT_CONTEXT, visibilityTimeoutSeconds);
}

/** `n` held messages, all due for an extension, in an order that is not their urgency. */
function heldMessages(n: number): InFlight[] {
  const now = Date.now();
  const messages = Array.from({ length: n }, (_, i) => {
    const message = held(String(i), now);
    message.receiptHandle = `h${i}`;
    message.deadline = now + 600_000;
    message.visibleAt = now + 400 + i / 10;
    return message;
  });
  // Interleave so the iteration order is not the urgency order.
  return [...messages.filter((_, i) => i % 2 === 1), ...messages.filter((_, i) => i % 2 === 0)];
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Moves mocked time on by `ms` in steps of 10 ms, letting the promises each step settles run. */
async function advance(ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 10) {
    mock.timers.tick(10);
    await nextTurn();
  }
}

describe("when a change makes a message visible again, by reason", () => {
  test("retry delay of a failed message grows with its receive count, bounded; 0 disables it", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => retryDelaySeconds(n, 1, 10)),
      [1, 2, 4, 8, 10, 10],
    );
    assert.equal(retryDelaySeconds(3, 0, 10), 0);
  });

  test("failed: after its retry delay, with a warning; group: at once, in the same call", async () => {
    const sqs = new SlowSqs(0);
    const { settlement: s, logs, metrics } = settlement(sqs, { RETRY_BASE_SECONDS: "2", RETRY_MAX_SECONDS: "60" });
    const failed = held("f", Date.now(), 3);
    const behind = [held("b1"), held("b2")];
    await s.changeVisibility(
      [{ message: failed, reason: "failed" }, ...behind.map((message) => ({ message, reason: "group" as const }))],
      { fields: { event: "handler-failed", reason: "error" }, message: "handler failed" },
    );
    assert.deepEqual(
      sqs.calls.map((c) => ({ handles: c.handles, seconds: c.seconds })),
      [{ handles: ["h-f", "h-b1", "h-b2"], seconds: [8, 0, 0] }],
      "one call: the failed message after 2 x 2^(3-1) s, the group behind it at once",
    );
    assert.deepEqual(
      logs.find((l) => l.event === "handler-failed").map((l) => [l.messageId, l.receiveCount, l.retryInSeconds]),
      [["f", 3, 8]],
    );
    const counted = await metrics.visibilityChanges.get();
    assert.deepEqual(Object.fromEntries(counted.values.map((v) => [v.labels.reason, v.value])), {
      failed: 1,
      group: 2,
    });
  });

  test("refused with retry delays off (RETRY_BASE_SECONDS=0): logged, and left to the visibility timeout without a call", async () => {
    const sqs = new SlowSqs(0);
    const { settlement: s, logs } = settlement(sqs, { RETRY_BASE_SECONDS: "0" });
    await s.changeVisibility([{ message: held("r"), reason: "refused" }], {
      fields: { event: "checksum-mismatch", part: "body" },
      message: "damaged",
    });
    assert.equal(sqs.calls.length, 0);
    const [warning] = logs.find((l) => l.event === "checksum-mismatch");
    assert.equal(warning?.retryInSeconds, undefined);
    assert.equal(warning?.part, "body");
  });

  test("shutdown: held back until the window opens, then at once; after it closes, nothing more; the account counts both", async () => {
    const sqs = new SlowSqs(0);
    const { settlement: s } = settlement(sqs);
    const early = [held("e1"), held("e2")];
    await s.changeVisibility(early.map((message) => ({ message, reason: "shutdown" as const })));
    assert.equal(sqs.calls.length, 0, "a shutdown change before the window opens");
    s.openShutdownWindow(Date.now() + 5_000, () => 0);
    await s.changeVisibility([{ message: held("u1"), reason: "shutdown" }]);
    const account = s.closeShutdownWindow(Promise.resolve());
    assert.deepEqual(await account, { given: 3, changed: 3 });
    assert.deepEqual(
      sqs.calls.map((c) => ({ handles: c.handles, seconds: c.seconds })),
      [
        { handles: ["h-e1", "h-e2"], seconds: [0, 0] },
        { handles: ["h-u1"], seconds: [0] },
      ],
    );
    await s.changeVisibility([{ message: held("late"), reason: "shutdown" }]);
    assert.equal(sqs.calls.length, 2, "a change after the window closed was sent");
    assert.deepEqual(await s.closeShutdownWindow(Promise.resolve()), { given: 4, changed: 3 });
  });
});

describe("the heartbeat and changes at scale", () => {
  afterEach(() => mock.timers.reset());

  test("a heartbeat pass over 1,000 messages: parallel batches (bounded), most urgent first, one pass at a time", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const sqs = new SlowSqs(50);
    // Visibility 1.2 s: a pass every 200 ms, much shorter than one pass over 1,000 messages.
    const { settlement: s, logs, metrics } = settlement(sqs, {}, 1.2);
    const messages = heldMessages(1_000);
    s.startHeartbeat(() => messages);
    try {
      // One pass is 100 calls of 50 ms, 16 at a time: about 350 ms; then a while longer.
      await advance(2_000);
    } finally {
      s.stopHeartbeat();
    }
    assert.equal(sqs.overlapping, 0, "a message was in two extension calls at once: passes overlapped");
    assert.equal(sqs.maxInFlight, PARALLEL_BATCHES, `${sqs.maxInFlight} calls in flight at once`);
    assert.deepEqual(
      sqs.calls[0]!.handles,
      Array.from({ length: 10 }, (_, i) => `h${i}`),
      "the first batch holds the most urgent messages",
    );
    const pass = logs.find((l) => l.event === "heartbeat")[0]!;
    assert.equal(pass.messages, 1_000);
    assert.equal(pass.batches, 100);
    const counted = await metrics.visibilityChanges.get();
    assert.ok(counted.values.every((v) => v.labels.reason === "heartbeat" && v.value >= 1_000));
  });

  test("a message deleted or changed is never extended afterwards; the delete or change waits for an extension on its way", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const sqs = new SlowSqs(100);
    const { settlement: s, logs } = settlement(sqs, {}, 1.2);
    const messages = heldMessages(400);
    s.startHeartbeat(() => messages);
    try {
      await advance(250);
      assert.ok(sqs.calls.length > 0 && sqs.calls.length < 40, "the first pass is under way");
      const sent = new Set(sqs.calls.flatMap((c) => c.handles));
      const onItsWay = messages.find((m) => sent.has(m.receiptHandle))!;
      const waitFor = s.stopExtending(onItsWay);
      assert.ok(waitFor !== undefined, "its extension is on its way");
      const notYet = messages.filter((m) => !sent.has(m.receiptHandle));
      for (const m of notYet) assert.equal(s.stopExtending(m), undefined);
      let answered = false;
      void waitFor.then(() => (answered = true));
      while (!answered) await advance(10);
      const call = sqs.calls.find((c) => c.handles.includes(onItsWay.receiptHandle))!;
      assert.ok(
        call.endedAt !== undefined && call.endedAt <= Date.now(),
        "stopExtending's promise resolved before the extension was answered",
      );
      await advance(1_500);
      assert.ok(logs.find((l) => l.event === "heartbeat").length > 0, "the pass ended");
      const extendedLater = sqs.calls
        .flatMap((c) => c.handles)
        .filter((h) => notYet.some((m) => m.receiptHandle === h) || h === onItsWay.receiptHandle);
      assert.deepEqual(
        extendedLater.filter((h) => h !== onItsWay.receiptHandle),
        [],
        "settled messages were extended",
      );
      assert.equal(extendedLater.length, 1, "the settled message was extended again");
    } finally {
      s.stopHeartbeat();
    }
  });

  test("changes of 1,000 messages at once: parallel batches, bounded", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const sqs = new SlowSqs(30);
    const { settlement: s } = settlement(sqs);
    let done = false;
    void s
      .changeVisibility(heldMessages(1_000).map((message) => ({ message, reason: "group" as const })))
      .then(() => (done = true));
    while (!done) await advance(10);
    assert.equal(sqs.calls.length, 100);
    assert.equal(sqs.maxInFlight, PARALLEL_BATCHES);
    assert.ok(sqs.calls.every((c) => c.seconds.every((seconds) => seconds === 0)));
  });
});

test("shutdown's changes still open when the budget ends are abandoned, and counted as not changed", async (t) => {
  // SQS never answers (its 60 s are mocked time that does not pass); the budget ends now.
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sqs = new SlowSqs(60_000);
  const { settlement: s, logs } = settlement(sqs);
  s.openShutdownWindow(Date.now(), () => 0);
  await s.changeVisibility(heldMessages(1_000).map((message) => ({ message, reason: "shutdown" as const })));
  let account: unknown;
  void s.closeShutdownWindow(Promise.resolve()).then((a) => (account = a));
  for (let turn = 0; turn < 1_000 && account === undefined; turn++) {
    t.mock.timers.tick(0);
    await nextTurn();
  }
  assert.deepEqual(account, { given: 1_000, changed: 0 });
  assert.equal(sqs.calls.length, PARALLEL_BATCHES, "a call went out after the budget had ended");
  assert.ok(logs.find((l) => l.event === "visibility-failed" && l.reason === "shutdown").length > 0);
});

describe("visibility lapses found after the fact", () => {
  test("a delete sent after the visibility ended is a late-settle lapse; the message coming back with a higher receive count is recognised", async () => {
    const { settlement: s, logs, metrics } = settlement(new SlowSqs(0));
    const late = held("late", Date.now() - 40_000, 1, 30);
    const onTime = held("on-time", Date.now(), 1, 30);
    await s.delete(late, undefined);
    await s.delete(onTime, undefined);
    const lapses = await metrics.visibilityLapses.get();
    assert.deepEqual(
      lapses.values.map((v) => [v.labels.detected, v.value]),
      [["late-settle", 1]],
    );
    const line = logs.find((l) => l.event === "visibility-lapsed");
    assert.equal(line.length, 1);
    assert.equal(line[0]!.messageId, "late");
    assert.ok((line[0]!.lateMs as number) >= 9_000);
    // SQS may accept a delete with a replaced receipt handle and keep the message: it comes back with a higher count.
    assert.equal(s.deletedEarlier("late", 2), true);
    assert.equal(s.deletedEarlier("late", 1), false, "the same delivery again is not a lapse");
    assert.equal(s.deletedEarlier("never-deleted", 2), false);
  });

  test("SQS refusing a receipt handle as no longer in flight is a receipt-handle lapse; other failures are not", async () => {
    const refusing = {
      send: (command: ChangeMessageVisibilityBatchCommand) =>
        Promise.resolve({
          Successful: [],
          Failed: (command.input.Entries ?? []).map((e, i) => ({
            Id: e.Id,
            SenderFault: true,
            Code: i === 0 ? "ReceiptHandleIsInvalid" : "InvalidParameterValue",
            Message: i === 0 ? "The receipt handle is not valid" : "Value for parameter VisibilityTimeout is invalid",
          })),
        }),
    };
    const { ctx, metrics } = testContext(refusing);
    const s = new Settlement(ctx);
    await s.changeVisibility([
      { message: held("gone"), reason: "group" },
      { message: held("other"), reason: "group" },
    ]);
    const lapses = await metrics.visibilityLapses.get();
    assert.deepEqual(
      lapses.values.map((v) => [v.labels.detected, v.value]),
      [["receipt-handle", 1]],
    );
  });
});

describe("the deletes remembered for lapses found later", () => {
  test("the last generation's worth at least, twice that at most, the latest receive count of each", () => {
    const recent = new RecentDeletes(100);
    for (let i = 0; i < 250; i++) recent.set(`m${i}`, 1);
    // 250 deletes in generations of 100: the newest 100 and the 50 since are kept, the first 100 are gone.
    assert.equal(recent.get("m99"), undefined);
    for (const i of [100, 149, 150, 249]) assert.equal(recent.get(`m${i}`), 1, `m${i}`);
    recent.set("m120", 3);
    assert.equal(recent.get("m120"), 3, "a later delete of the same message wins");
    for (let i = 0; i < 200; i++) recent.set(`n${i}`, 1);
    assert.equal(recent.get("m249"), undefined, "dropped with its generation");
  });
});
