import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { dlqTypeMatchesSource } from "../rules/dlq-type";
import { edit, stackViolations } from "./harness";
import { goodResources, goodStack, queueArn, queueUrl, resource } from "./fixtures/good-stack";

/** The good stack with both queues FIFO, as `queueType: fifo` makes them. */
function fifoStack() {
  const good = goodResources();
  const dlq = edit(good.dlq, {
    name: "consumer-dev-dlq.fifo",
    fifoQueue: true,
    arn: queueArn("consumer-dev-dlq.fifo"),
    url: queueUrl("consumer-dev-dlq.fifo"),
  });
  const queue = edit(good.queue, {
    name: "consumer-dev.fifo",
    fifoQueue: true,
    deduplicationScope: "messageGroup",
    fifoThroughputLimit: "perMessageGroupId",
    redrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("consumer-dev-dlq.fifo"), maxReceiveCount: 5 }),
  });
  return { ...good, dlq, queue };
}

describe("dlq-type-matches-source", () => {
  it("passes standard queues with a standard DLQ, and FIFO queues with a FIFO DLQ", async () => {
    assert.deepEqual(await stackViolations(dlqTypeMatchesSource, goodStack()), []);
    assert.deepEqual(await stackViolations(dlqTypeMatchesSource, Object.values(fifoStack())), []);
  });

  it("rejects a FIFO queue whose DLQ is standard", async () => {
    const stack = fifoStack();
    const dlq = edit(stack.dlq, { name: "consumer-dev-dlq", fifoQueue: undefined, arn: queueArn("consumer-dev-dlq") });
    const queue = edit(stack.queue, {
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("consumer-dev-dlq"), maxReceiveCount: 5 }),
    });
    assert.deepEqual(await stackViolations(dlqTypeMatchesSource, Object.values({ ...stack, dlq, queue })), [
      {
        message: `Queue "consumer-queue" is a FIFO queue but its dead-letter queue "consumer-dlq" is standard; SQS rejects that redrive policy: set fifoQueue: true on "consumer-dlq" and end its name in .fifo.`,
        urn: queue.urn,
      },
    ]);
  });

  it("rejects a standard queue whose DLQ is FIFO, also when the redrive policy is its own resource", async () => {
    const good = goodResources();
    const dlq = edit(good.dlq, {
      name: "consumer-dev-dlq.fifo",
      fifoQueue: true,
      arn: queueArn("consumer-dev-dlq.fifo"),
    });
    const queue = edit(good.queue, { redrivePolicy: undefined });
    const redrive = resource(AWS.queueRedrivePolicy, "consumer-redrive", {
      queueUrl: queueUrl("consumer-dev"),
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("consumer-dev-dlq.fifo"), maxReceiveCount: 5 }),
    });
    const findings = await stackViolations(dlqTypeMatchesSource, [...Object.values({ ...good, dlq, queue }), redrive]);
    assert.equal(findings.length, 1);
    assert.match(
      findings[0]!.message,
      /"consumer-queue" is a standard queue but its dead-letter queue "consumer-dlq" is FIFO/,
    );
  });
});
