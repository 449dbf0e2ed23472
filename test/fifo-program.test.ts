/**
 * The program with `queueType: fifo`, under Pulumi mocks: a FIFO queue and a FIFO dead-letter queue with
 * `.fifo` names within SQS's 80 characters, high throughput on by default, content-based deduplication
 * as configured, and a stack the policy pack accepts (a FIFO queue's DLQ is FIFO).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { runPack } from "../policies/offline/run-pack";
import type { ProgramRun } from "./helpers/mocks";
import { assertSucceeded, named, packResources, runPrograms, scenario } from "./helpers/program";

const LONG_STACK = "bob-feature-branch-with-a-very-long-descriptive-name-for-the-retry-work";

let fifo: ProgramRun;
let contentDedup: ProgramRun;

before(async () => {
  [fifo, contentDedup] = (await runPrograms([
    await scenario(LONG_STACK, { queueType: "fifo" }),
    await scenario("orders", { queueType: "fifo", contentBasedDeduplication: true, fifoHighThroughput: false }),
  ])) as [ProgramRun, ProgramRun];
  for (const run of [fifo, contentDedup]) assertSucceeded(run);
});

describe("queueType: fifo", () => {
  it("creates a FIFO queue and a FIFO DLQ, named .fifo within 80 characters, high throughput on", () => {
    const queue = named(fifo, "queue-queue");
    const dlq = named(fifo, "queue-dlq");
    for (const q of [queue, dlq]) {
      assert.equal(q.inputs.fifoQueue, true);
      assert.match(String(q.inputs.name), /\.fifo$/);
      assert.ok(String(q.inputs.name).length <= 80, String(q.inputs.name));
    }
    assert.equal(queue.inputs.deduplicationScope, "messageGroup");
    assert.equal(queue.inputs.fifoThroughputLimit, "perMessageGroupId");
    assert.equal(queue.inputs.contentBasedDeduplication, false);
    assert.match(
      String(fifo.outputs.sendTestMessageCommand),
      /--message-group-id g1 --message-deduplication-id \$\(date \+%s%N\)$/,
    );
  });

  it("takes content-based deduplication and per-queue throughput when configured", () => {
    const queue = named(contentDedup, "queue-queue");
    assert.equal(queue.inputs.name, "sqs-eks-consumer-orders-queue.fifo");
    assert.equal(named(contentDedup, "queue-dlq").inputs.name, "sqs-eks-consumer-orders-dlq.fifo");
    assert.equal(queue.inputs.contentBasedDeduplication, true);
    assert.equal(queue.inputs.deduplicationScope, "queue");
    assert.equal(queue.inputs.fifoThroughputLimit, "perQueue");
    assert.match(String(contentDedup.outputs.sendTestMessageCommand), /--message-group-id g1$/);
  });

  it("passes the policy pack, whose DLQ rule would catch a standard DLQ", async () => {
    for (const run of [fifo, contentDedup]) assert.deepEqual((await runPack(packResources(run))).violations, []);
    const standardDlq = packResources(fifo).map((r) =>
      r.name === "queue-dlq" ? { ...r, props: { ...r.props, fifoQueue: false, name: "plain-dlq" } } : r,
    );
    const found = (await runPack(standardDlq)).violations.map((v) => v.policy);
    assert.ok(found.includes("dlq-type-matches-source"), JSON.stringify(found));
  });
});
