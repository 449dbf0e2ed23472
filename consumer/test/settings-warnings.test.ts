import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { settingsWarnings, type DeploymentSettings } from "../src/contract";

const keyOf = (key: string) => `consumer.${key}`;
const fitting: DeploymentSettings = {
  tunables: { handlerTimeoutSeconds: 20, shutdownBudgetSeconds: 25, handlerConcurrency: 100 },
  memoryLimitMiB: 256,
  maxReceiveCount: 5,
};

describe("settings that hurt in production", () => {
  test("none for a handler timeout within the budget and handler slots the memory budget fills", () => {
    assert.deepEqual(settingsWarnings(fitting, keyOf), []);
    assert.deepEqual(
      settingsWarnings({ ...fitting, tunables: { ...fitting.tunables, handlerTimeoutSeconds: 25 } }, keyOf),
      [],
      "equal to the budget is fine",
    );
  });

  test("a batch size above the handler concurrency: a batch handler gets at most that many messages per call", () => {
    assert.deepEqual(
      settingsWarnings({ ...fitting, tunables: { ...fitting.tunables, batchSize: 100 } }, keyOf),
      [],
      "equal to the concurrency is fine",
    );
    const warnings = settingsWarnings({ ...fitting, tunables: { ...fitting.tunables, batchSize: 500 } }, keyOf);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.key, "consumer.batchSize");
    assert.match(
      warnings[0]!.message,
      /^500 is above consumer\.handlerConcurrency \(100\): .*at most 100 messages per call, not 500/,
    );
  });

  test("a handler timeout above the shutdown budget: aborts at every rollout, each a receive toward the DLQ, with the numbers", () => {
    const warnings = settingsWarnings(
      { ...fitting, tunables: { ...fitting.tunables, handlerTimeoutSeconds: 60 } },
      keyOf,
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.key, "consumer.handlerTimeoutSeconds");
    assert.match(
      warnings[0]!.message,
      /^60 s is above consumer\.shutdownBudgetSeconds \(25 s\): every rollout, scale-in or node drain aborts handlers still running after 25 s/,
    );
    assert.match(warnings[0]!.message, /counts a receive toward the DLQ \(maxReceiveCount 5\)/);
  });

  test("more handler slots than the memory budget holds messages of 1 MiB: the numbers and the way out", () => {
    const warnings = settingsWarnings({ ...fitting, memoryLimitMiB: 128 }, keyOf);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.key, "consumer.handlerConcurrency");
    assert.match(
      warnings[0]!.message,
      /^with bodies of 1 MiB, the largest the queue accepts \(consumer\.maxMessageSizeBytes 1048576\), the consumer holds at most \d+ messages at once, within its memory budget of \d+ MiB \(for consumer\.memoryLimitMiB 128 MiB\)/,
    );
    assert.match(warnings[0]!.message, /nothing runs out of it/);
  });

  test("the queue's maximum message size sizes the memory warnings: messages of 256 KiB fit where 1 MiB ones do not", () => {
    const at = (maximumMessageSize: number, memoryLimitMiB: number, handlerConcurrency: number) =>
      settingsWarnings(
        { ...fitting, memoryLimitMiB, maximumMessageSize, tunables: { ...fitting.tunables, handlerConcurrency } },
        keyOf,
      );
    assert.deepEqual(at(262_144, 128, fitting.tunables.handlerConcurrency), []);
    assert.deepEqual(at(262_144, 64, 1), [], "64 MiB holds a receive of one 256 KiB message");
    const [warning] = at(262_144, 128, 1_000);
    assert.match(
      warning!.message,
      /^with bodies of 256 KiB, the largest the queue accepts \(consumer\.maxMessageSizeBytes 262144\)/,
    );
  });

  test("a memory limit whose budget cannot hold one receive of 1 MiB: may run out of memory", () => {
    const warnings = settingsWarnings(
      { ...fitting, memoryLimitMiB: 64, tunables: { ...fitting.tunables, handlerConcurrency: 1 } },
      keyOf,
    );
    assert.deepEqual(
      warnings.map((w) => w.key),
      ["consumer.memoryLimitMiB"],
    );
    assert.match(
      warnings[0]!.message,
      /^64 MiB leaves the consumer no room for a message of 1 MiB.*may still run out of memory/,
    );
  });

  test("both at once, in a stable order", () => {
    const warnings = settingsWarnings(
      {
        tunables: { handlerTimeoutSeconds: 900, shutdownBudgetSeconds: 30, handlerConcurrency: 10_000 },
        memoryLimitMiB: 1024,
        maxReceiveCount: 3,
      },
      keyOf,
    );
    assert.deepEqual(
      warnings.map((w) => w.key),
      ["consumer.handlerTimeoutSeconds", "consumer.handlerConcurrency"],
    );
    assert.match(warnings[1]!.message, /holds at most \d+ messages at once.* of the 10000 handler slots stay empty/);
  });
});
