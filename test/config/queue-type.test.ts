import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sqsQueueName, FIFO_QUEUE_SUFFIX, NAME_LIMITS } from "../../infra/names";
import { fifoQueueAttributes } from "../../infra/queue";
import { k, problems, valid } from "./helpers";

describe("queue type", () => {
  it("is standard by default, with the FIFO settings at their defaults (high throughput on)", () => {
    assert.deepEqual(valid({}).queue, {
      type: "standard",
      contentBasedDeduplication: false,
      highThroughput: true,
      maxReceiveCount: 5,
      messageRetentionSeconds: 345_600,
      dlqMessageRetentionSeconds: 1_209_600,
    });
  });

  it("takes fifo with content-based deduplication and without high throughput", () => {
    const queue = valid({
      [k("queueType")]: "fifo",
      [k("contentBasedDeduplication")]: "true",
      [k("fifoHighThroughput")]: "false",
    }).queue;
    assert.equal(queue.type, "fifo");
    assert.equal(queue.contentBasedDeduplication, true);
    assert.equal(queue.highThroughput, false);
  });

  it("rejects what SQS rejects, naming every key: an unknown type, a non-boolean, content-based deduplication on a standard queue", () => {
    const found = problems({ [k("queueType")]: "fofo", [k("fifoHighThroughput")]: "yes" });
    assert.match(found.get(k("queueType"))!, /must be one of standard, fifo, got "fofo"/);
    assert.match(found.get(k("fifoHighThroughput"))!, /must be true or false, got "yes"/);
    const standard = problems({ [k("contentBasedDeduplication")]: "true" });
    assert.equal(
      standard.get(k("contentBasedDeduplication")),
      "applies only when queueType is fifo (this stack's queueType is standard); remove it",
    );
  });

  it("rejects fifoHighThroughput turned off on a standard queue, where it would do nothing; its default passes (the CLI merges defaults in)", () => {
    assert.equal(
      problems({ [k("fifoHighThroughput")]: "false" }).get(k("fifoHighThroughput")),
      "applies only when queueType is fifo (this stack's queueType is standard); remove it",
    );
    assert.equal(valid({ [k("fifoHighThroughput")]: "true" }).queue.type, "standard");
  });
});

describe("FIFO queue names and attributes", () => {
  it("end in .fifo within SQS's 80 characters, however long the stack name", () => {
    const scope = {
      project: "sqs-eks-consumer",
      stack: "bob-feature-branch-with-a-very-long-descriptive-name-for-the-retry-work",
    };
    for (const role of ["queue", "dlq"]) {
      const name = sqsQueueName(scope, role, true);
      assert.ok(name.endsWith(`-${role}${FIFO_QUEUE_SUFFIX}`), name);
      assert.ok(name.length <= NAME_LIMITS.sqsQueue, `${name} has ${name.length} characters`);
      assert.match(name.slice(0, -FIFO_QUEUE_SUFFIX.length), /^[a-z0-9-]+$/);
    }
    assert.equal(sqsQueueName({ project: "p", stack: "dev" }, "queue", false), "p-dev-queue");
    assert.equal(sqsQueueName({ project: "p", stack: "dev" }, "queue", true), "p-dev-queue.fifo");
  });

  it("high throughput sets both of its attributes; without it, both go back to per queue", () => {
    assert.deepEqual(fifoQueueAttributes({ contentBasedDeduplication: false, highThroughput: true }), {
      fifoQueue: true,
      contentBasedDeduplication: false,
      deduplicationScope: "messageGroup",
      fifoThroughputLimit: "perMessageGroupId",
    });
    assert.deepEqual(fifoQueueAttributes({ contentBasedDeduplication: true, highThroughput: false }), {
      fifoQueue: true,
      contentBasedDeduplication: true,
      deduplicationScope: "queue",
      fifoThroughputLimit: "perQueue",
    });
    assert.deepEqual(fifoQueueAttributes(undefined), {});
  });
});
