/**
 * The queue and its dead-letter queue under Pulumi mocks: encryption, long polling, redrive, TLS-only
 * policies and the visibility timeout derived from the handler timeout; with `queueType: fifo`, FIFO queues
 * with `.fifo` names, high throughput on by default and content-based deduplication as configured; and the
 * policy pack's DLQ rule on them. Names within SQS's limit are in names.test.ts, the FIFO attributes for
 * every combination of settings in queue.test.ts.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DEFAULT_TUNABLES, queueVisibilityTimeoutSeconds } from "../consumer/src/settings";
import { runPack } from "../policies/offline/run-pack";
import type { ProgramRun } from "./helpers/mocks";
import {
  assertSucceeded,
  jsonInput,
  named,
  ofType,
  oneOfType,
  packResources,
  runPrograms,
  scenario,
} from "./helpers/program";

const LONG_STACK = "bob-feature-branch-with-a-very-long-descriptive-name-for-the-retry-work";

let standard: ProgramRun;
let fifo: ProgramRun;
let contentDedup: ProgramRun;
let largest: ProgramRun;

before(async () => {
  [standard, fifo, contentDedup, largest] = (await runPrograms([
    await scenario("shared", { maxReceiveCount: 7, consumer: { handlerTimeoutSeconds: 300 } }),
    await scenario(LONG_STACK, { queueType: "fifo" }),
    await scenario("orders", { queueType: "fifo", contentBasedDeduplication: true, fifoHighThroughput: false }),
    await scenario("shared", {
      maxReceiveCount: 7,
      consumer: { handlerTimeoutSeconds: 300 },
      maxMessageSizeBytes: 1_048_576,
    }),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun];
  for (const run of [standard, fifo, contentDedup, largest]) assertSucceeded(run);
});

describe("queue", () => {
  const queue = () => named(standard, "queue-queue");
  const dlq = () => named(standard, "queue-dlq");

  it("derives the visibility timeout from the consumer's handler timeout", () => {
    assert.equal(
      queue().inputs.visibilityTimeoutSeconds,
      queueVisibilityTimeoutSeconds({ handlerTimeoutSeconds: 300 }),
    );
    assert.equal(queue().inputs.visibilityTimeoutSeconds, 310);
    assert.equal(
      named(fifo, "queue-queue").inputs.visibilityTimeoutSeconds,
      queueVisibilityTimeoutSeconds(DEFAULT_TUNABLES),
    );
  });

  it("encrypts both queues with SQS-managed keys and long-polls", () => {
    for (const q of [queue(), dlq()]) {
      assert.equal(q.inputs.sqsManagedSseEnabled, true);
      assert.equal(q.inputs.kmsMasterKeyId, undefined);
      assert.equal(q.inputs.receiveWaitTimeSeconds, 20);
    }
  });

  it("redrives to the DLQ after maxReceiveCount receives, and only this queue may redrive into it", () => {
    const dlqArn = "arn:aws:sqs:us-west-2:123456789012:sqs-eks-consumer-shared-dlq";
    assert.deepEqual(jsonInput(queue(), "redrivePolicy"), { deadLetterTargetArn: dlqArn, maxReceiveCount: 7 });
    assert.deepEqual(
      jsonInput(oneOfType(standard, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"), "redriveAllowPolicy"),
      {
        redrivePermission: "byQueue",
        sourceQueueArns: ["arn:aws:sqs:us-west-2:123456789012:sqs-eks-consumer-shared-queue"],
      },
    );
  });

  it("both queues accept the same largest message, 256 KiB unless maxMessageSizeBytes says otherwise", () => {
    // A message the queue accepted must fit in the dead-letter queue the redrive moves it to.
    for (const q of [queue(), dlq()]) assert.equal(q.inputs.maxMessageSize, 262_144);
  });

  it("a change of maxMessageSizeBytes updates both queues and rolls the consumer's pods", () => {
    for (const name of ["queue-queue", "queue-dlq"])
      assert.equal(named(largest, name).inputs.maxMessageSize, 1_048_576);
    // The consumer reads MaximumMessageSize once, at start-up: only new pods charge receives by the new
    // maximum. Kubernetes rolls a Deployment out when, and only when, its pod template (.spec.template)
    // changes (Kubernetes docs, Concepts > Workloads > Deployments, "Updating a Deployment").
    const template = (run: ProgramRun) =>
      (oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as { template: unknown }).template;
    assert.notDeepEqual(template(largest), template(standard));
  });

  it("keeps dead-lettered messages at least as long as the queue keeps messages (14 days by default)", () => {
    assert.equal(dlq().inputs.messageRetentionSeconds, 1_209_600);
    assert.ok((dlq().inputs.messageRetentionSeconds as number) >= (queue().inputs.messageRetentionSeconds as number));
  });

  it("denies every non-TLS request to either queue", () => {
    const policies = ofType(standard, "aws:sqs/queuePolicy:QueuePolicy");
    assert.equal(policies.length, 2);
    const byUrl = new Map(policies.map((p) => [p.inputs.queueUrl, jsonInput(p, "policy")]));
    for (const q of [queue(), dlq()]) {
      const name = String(q.inputs.name);
      assert.deepEqual(byUrl.get(`https://sqs.us-west-2.amazonaws.com/123456789012/${name}`), {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sqs:*",
            Resource: `arn:aws:sqs:us-west-2:123456789012:${name}`,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      });
    }
  });
});

describe("queueType: fifo", () => {
  it("creates a FIFO queue and a FIFO DLQ, named .fifo, high throughput on", () => {
    const queue = named(fifo, "queue-queue");
    const dlq = named(fifo, "queue-dlq");
    for (const q of [queue, dlq]) {
      assert.equal(q.inputs.fifoQueue, true);
      assert.match(String(q.inputs.name), /\.fifo$/);
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
});

describe("the policy pack and DLQs of the wrong type (queueType: fifo under mocks)", () => {
  it("finds no violation in the FIFO stacks", async () => {
    for (const run of [fifo, contentDedup]) assert.deepEqual((await runPack(packResources(run))).violations, []);
  });

  const violationsWith = async (dlqProps: Record<string, unknown>) => {
    const resources = packResources(fifo).map((r) =>
      r.name === "queue-dlq" ? { ...r, props: { ...r.props, ...dlqProps } } : r,
    );
    return (await runPack(resources)).violations.map((v) => v.policy);
  };

  it("catches a standard DLQ named like a standard queue", async () => {
    assert.ok((await violationsWith({ fifoQueue: false, name: "plain-dlq" })).includes("dlq-type-matches-source"));
  });

  it("catches a standard DLQ with no fifoQueue at all", async () => {
    assert.ok((await violationsWith({ fifoQueue: undefined, name: "plain-dlq" })).includes("dlq-type-matches-source"));
  });

  it("catches a DLQ that says fifoQueue: false but keeps a .fifo name (SQS creates no such queue; it is not a FIFO DLQ)", async () => {
    const found = await violationsWith({ fifoQueue: false });
    assert.ok(found.length > 0, "the pack accepted a DLQ with fifoQueue false and a .fifo name");
  });
});
