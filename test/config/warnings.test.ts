import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, parse } from "./helpers";

function warnings(values: Record<string, string>): Map<string, string> {
  const result = parse(values);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return new Map(result.warnings.map((w) => [w.key, w.message]));
}

describe("parseStackConfig: warnings about valid settings that hurt in production", () => {
  it("names the stack's keys and the numbers, from the consumer block, the workload and the queue", () => {
    const found = warnings({
      [k("consumer")]: JSON.stringify({
        handlerTimeoutSeconds: 120,
        shutdownBudgetSeconds: 30,
        handlerConcurrency: 200,
      }),
      [k("memoryLimitMiB")]: "192",
      [k("memoryRequestMiB")]: "128",
      [k("maxReceiveCount")]: "3",
      [k("maxMessageSizeBytes")]: "1048576",
    });
    assert.deepEqual([...found.keys()], [k("consumer.handlerTimeoutSeconds"), k("consumer.handlerConcurrency")]);
    assert.match(
      found.get(k("consumer.handlerTimeoutSeconds"))!,
      /^120 s is above sqs-eks-consumer:consumer\.shutdownBudgetSeconds \(30 s\).*maxReceiveCount 3/,
    );
    assert.match(
      found.get(k("consumer.handlerConcurrency"))!,
      /^with bodies of 1 MiB, the largest the queue accepts \(sqs-eks-consumer:maxMessageSizeBytes 1048576\), the consumer holds at most \d+ messages at once, within its memory budget of \d+ MiB \(for sqs-eks-consumer:memoryLimitMiB 192 MiB\): \d+ of the 200 handler slots/,
    );
  });

  it("sizes the memory warning by the queue's maxMessageSizeBytes: 200 slots at 192 MiB fit messages of 256 KiB", () => {
    const consumer = JSON.stringify({ handlerTimeoutSeconds: 20, handlerConcurrency: 200 });
    const at = (size: string) =>
      warnings({ [k("consumer")]: consumer, [k("memoryLimitMiB")]: "192", [k("maxMessageSizeBytes")]: size });
    assert.deepEqual([...at("1048576").keys()], [k("consumer.handlerConcurrency")]);
    assert.deepEqual([...at("262144").keys()], []);
  });

  it("a configuration within both bounds has none, and warnings never make a configuration invalid", () => {
    assert.deepEqual(warnings({ [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 20 }) }).size, 0);
    const result = parse({ [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 3600 }) });
    assert.ok(result.ok);
  });
});
