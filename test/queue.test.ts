/**
 * The queue's FIFO attributes (infra/queue.ts `fifoQueueAttributes`) against what SQS's CreateQueue accepts,
 * for every combination of the FIFO settings the stack config lets through. The component under mocks is
 * in queue.integration.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fifoQueueAttributes } from "../infra/queue";
import { k, parse } from "./config/helpers";

describe("fifoQueueAttributes", () => {
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
