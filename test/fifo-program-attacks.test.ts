/**
 * Attacks on the program side of issue 10: queue names at SQS's 80-character limit with `.fifo`, every
 * combination of the FIFO settings against what SQS accepts, and DLQs of the wrong type through the
 * policy pack (under Pulumi mocks; no AWS).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { runPack } from "../policies/offline/run-pack";
import { FIFO_QUEUE_SUFFIX, NAME_LIMITS, sqsQueueName } from "../infra/names";
import { fifoQueueAttributes } from "../infra/queue";
import type { ProgramRun } from "./helpers/mocks";
import { assertSucceeded, packResources, runPrograms, scenario } from "./helpers/program";
import { k, parse } from "./config/helpers";

/** SQS queue names: 1 to 80 alphanumeric characters, hyphens or underscores; a FIFO queue's end in .fifo, counted in the 80 (CreateQueue, QueueName). */
const SQS_FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;

describe("FIFO queue names near SQS's 80-character limit", () => {
  it("every stack name from 1 to 120 characters, of any characters, gives valid, distinct .fifo names", () => {
    const seen = new Map<string, string>();
    for (let length = 1; length <= 120; length++) {
      for (const stack of [
        "a".repeat(length),
        `Dev.${"x".repeat(length)}`,
        `${"é".repeat(length)}`,
        `${"b-".repeat(length)}`.slice(0, length),
      ]) {
        for (const project of ["sqs-eks-consumer", "p"]) {
          const names = ["queue", "dlq"].map((role) => sqsQueueName({ project, stack }, role, true));
          for (const name of names) {
            assert.match(name, SQS_FIFO_NAME, `stack ${JSON.stringify(stack)}: ${name}`);
            assert.ok(name.length <= NAME_LIMITS.sqsQueue, `${name} has ${name.length} characters`);
          }
          assert.notEqual(names[0], names[1]);
          for (const name of names) {
            const owner = `${project}/${stack}`;
            const earlier = seen.get(name);
            assert.ok(earlier === undefined || earlier === owner, `${owner} and ${earlier} share ${name}`);
            seen.set(name, owner);
          }
        }
      }
    }
  });

  it("the standard and FIFO names of one stack differ only by the suffix when short, and both stay within 80 when long", () => {
    const scope = { project: "sqs-eks-consumer", stack: "x".repeat(75 - "sqs-eks-consumer--queue".length) };
    const standard = sqsQueueName(scope, "queue", false);
    const fifo = sqsQueueName(scope, "queue", true);
    assert.equal(standard.length, 75);
    assert.equal(fifo, `${standard}${FIFO_QUEUE_SUFFIX}`, "exactly 80 with .fifo: no shortening needed");
    const longer = { ...scope, stack: `${scope.stack}y` };
    assert.equal(sqsQueueName(longer, "queue", true).length <= 80, true);
    assert.notEqual(
      sqsQueueName(longer, "queue", true),
      `${sqsQueueName(longer, "queue", false)}${FIFO_QUEUE_SUFFIX}`,
      "76 + 5 > 80: shortened with a hash",
    );
  });
});

describe("FIFO settings: every combination is either rejected at preview or one SQS accepts", () => {
  for (const queueType of ["standard", "fifo"]) {
    for (const contentBasedDeduplication of ["true", "false"]) {
      for (const fifoHighThroughput of ["true", "false"]) {
        it(`queueType ${queueType}, contentBasedDeduplication ${contentBasedDeduplication}, fifoHighThroughput ${fifoHighThroughput}`, () => {
          const result = parse({
            [k("queueType")]: queueType,
            [k("contentBasedDeduplication")]: contentBasedDeduplication,
            [k("fifoHighThroughput")]: fifoHighThroughput,
          });
          // On a standard queue a FIFO-only key set away from its default does nothing, so preview
          // names it (infra/config/applies-when.ts): content-based deduplication on, high throughput off.
          const expected =
            queueType === "standard"
              ? [
                  ...(contentBasedDeduplication === "true" ? [k("contentBasedDeduplication")] : []),
                  ...(fifoHighThroughput === "false" ? [k("fifoHighThroughput")] : []),
                ]
              : [];
          if (!result.ok) {
            assert.deepEqual(
              result.problems.map((p) => p.key).sort(),
              expected.sort(),
              JSON.stringify(result.problems),
            );
            return;
          }
          assert.deepEqual(expected, [], "accepted a FIFO-only key set on a standard queue");
          const queue = result.value.queue;
          const attributes = fifoQueueAttributes(
            queue.type === "fifo"
              ? { contentBasedDeduplication: queue.contentBasedDeduplication, highThroughput: queue.highThroughput }
              : undefined,
          );
          if (queue.type === "standard") {
            // SQS rejects FifoQueue, ContentBasedDeduplication, DeduplicationScope and FifoThroughputLimit on a standard queue.
            assert.deepEqual(attributes, {});
            return;
          }
          // CreateQueue: FifoThroughputLimit perMessageGroupId is allowed only with DeduplicationScope messageGroup.
          if (attributes.fifoThroughputLimit === "perMessageGroupId")
            assert.equal(attributes.deduplicationScope, "messageGroup");
          assert.equal(attributes.fifoQueue, true);
          assert.equal(attributes.contentBasedDeduplication, contentBasedDeduplication === "true");
        });
      }
    }
  }
});

describe("the policy pack and DLQs of the wrong type (queueType: fifo under mocks)", () => {
  let fifo: ProgramRun;
  before(async () => {
    [fifo] = (await runPrograms([await scenario("attack", { queueType: "fifo" })])) as [ProgramRun];
    assertSucceeded(fifo);
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
