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
    });
    assert.deepEqual([...found.keys()], [k("consumer.handlerTimeoutSeconds"), k("consumer.handlerConcurrency")]);
    assert.match(
      found.get(k("consumer.handlerTimeoutSeconds"))!,
      /^120 s is above sqs-eks-consumer:consumer\.shutdownBudgetSeconds \(30 s\).*maxReceiveCount 3/,
    );
    assert.match(
      found.get(k("consumer.handlerConcurrency"))!,
      /holds at most \d+ messages at once, within its memory budget of \d+ MiB \(for sqs-eks-consumer:memoryLimitMiB 192 MiB\): \d+ of the 200 handler slots/,
    );
  });

  it("a configuration within both bounds has none, and warnings never make a configuration invalid", () => {
    assert.deepEqual(warnings({ [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 20 }) }).size, 0);
    const result = parse({ [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 3600 }) });
    assert.ok(result.ok);
  });
});
