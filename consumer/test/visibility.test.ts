// The visibility heartbeat and releases at scale, against a stand-in SQS client that answers each
// ChangeMessageVisibilityBatch after a delay and records what was in flight at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChangeMessageVisibilityBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Metrics } from "../src/metrics";
import { PARALLEL_BATCHES, Visibility, type HeldMessage } from "../src/visibility";
import { LogCapture } from "./helpers/log-capture";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

function visibility(
  sqs: SlowSqs,
  visibilityTimeoutSeconds: number,
): { visibility: Visibility; logs: LogCapture; metrics: Metrics } {
  const logs = new LogCapture("debug");
  const metrics = new Metrics();
  const v = new Visibility({
    sqs: sqs as unknown as SQSClient,
    queueUrl: "http://127.0.0.1/000000000000/q",
    visibilityTimeoutSeconds,
    hints: { queueUrl: "q", region: "us-east-1" },
    logger: logs.logger,
    metrics,
  });
  return { visibility: v, logs, metrics };
}

/** `n` held messages, all due for an extension, in an order that is not their urgency. */
function heldMessages(n: number): HeldMessage[] {
  const now = Date.now();
  const messages = Array.from({ length: n }, (_, i) => ({
    messageId: `m${i}`,
    receiptHandle: `h${i}`,
    receivedAt: now,
    deadline: now + 600_000,
    visibleAt: now + 400 + i / 10,
  }));
  // Interleave so the iteration order is not the urgency order.
  return [...messages.filter((_, i) => i % 2 === 1), ...messages.filter((_, i) => i % 2 === 0)];
}

test("a heartbeat pass over 1,000 messages: parallel batches (bounded), most urgent first, one pass at a time", async () => {
  const sqs = new SlowSqs(50);
  // Visibility 1.2 s: a pass every 200 ms, much shorter than one pass over 1,000 messages.
  const { visibility: v, logs } = visibility(sqs, 1.2);
  const held = heldMessages(1_000);
  v.startHeartbeat(() => held);
  try {
    // One pass is 100 calls: wait for them, however they are sent, and a while longer.
    const deadline = Date.now() + 20_000;
    while (sqs.calls.length < 100 && Date.now() < deadline) await sleep(50);
    await sleep(1_000);
  } finally {
    v.stopHeartbeat();
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
});

test("a message settled (acknowledged or released) is never extended afterwards; settle waits for an extension on its way", async () => {
  const sqs = new SlowSqs(100);
  const { visibility: v, logs } = visibility(sqs, 1.2);
  const held = heldMessages(400);
  v.startHeartbeat(() => held);
  try {
    await sleep(250);
    assert.ok(sqs.calls.length > 0 && sqs.calls.length < 40, "the first pass is under way");
    const sent = new Set(sqs.calls.flatMap((c) => c.handles));
    const onItsWay = held.find((m) => sent.has(m.receiptHandle))!;
    const waitFor = v.settle(onItsWay);
    assert.ok(waitFor !== undefined, "its extension is on its way");
    const notYet = held.filter((m) => !sent.has(m.receiptHandle));
    for (const m of notYet) assert.equal(v.settle(m), undefined);
    await waitFor;
    const call = sqs.calls.find((c) => c.handles.includes(onItsWay.receiptHandle))!;
    assert.ok(
      call.endedAt !== undefined && call.endedAt <= Date.now(),
      "settle resolved before the extension was answered",
    );
    await logs.waitFor((l) => l.event === "heartbeat", 10_000, "the pass to end");
    await sleep(500);
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
    v.stopHeartbeat();
  }
});

test("release: parallel batches, and calls still open when the budget ends are abandoned", async () => {
  const sqs = new SlowSqs(30);
  const { visibility: v } = visibility(sqs, 30);
  const held = heldMessages(1_000);
  await v.release(held.map((message) => ({ message, delaySeconds: 0 })));
  assert.equal(sqs.calls.length, 100);
  assert.equal(sqs.maxInFlight, PARALLEL_BATCHES);
  assert.ok(sqs.calls.every((c) => c.seconds.every((s) => s === 0)));

  const slow = new SlowSqs(60_000);
  const { visibility: stuck } = visibility(slow, 30);
  const started = Date.now();
  await stuck.release(
    held.map((message) => ({ message, delaySeconds: 0 })),
    AbortSignal.timeout(300),
  );
  assert.ok(Date.now() - started < 10_000, "release outlived its budget");
});
