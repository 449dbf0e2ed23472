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
      maxMessageSizeBytes: 262_144,
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

  it("takes SQS's range of MaximumMessageSize, 1 KiB to 1 MiB, and names the key outside it", () => {
    assert.equal(valid({ [k("maxMessageSizeBytes")]: "1048576" }).queue.maxMessageSizeBytes, 1_048_576);
    for (const bad of ["1023", "1048577"])
      assert.ok(problems({ [k("maxMessageSizeBytes")]: bad }).has(k("maxMessageSizeBytes")), bad);
  });

  it("rejects an unknown type, naming the choices", () => {
    assert.match(
      problems({ [k("queueType")]: "fofo" }).get(k("queueType"))!,
      /must be one of standard, fifo, got "fofo"/,
    );
  });
});
