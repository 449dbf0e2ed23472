/** The queue concern (infra/config/queue.ts): type, deduplication, throughput, redrive and retention. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: the queue", () => {
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

  it("rejects an unknown type, naming the choices", () => {
    assert.match(
      problems({ [k("queueType")]: "fofo" }).get(k("queueType"))!,
      /must be one of standard, fifo, got "fofo"/,
    );
  });
});
