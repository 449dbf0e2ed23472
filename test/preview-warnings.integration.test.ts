/**
 * `pulumi preview` shows warnings about valid settings that hurt in production: the
 * program, loaded as the language host loads it, logs them through pulumi.log.warn before it registers
 * anything, and still deploys.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProgramRun } from "./helpers/mocks";
import { assertSucceeded, runPrograms, scenario } from "./helpers/program";

/** The warnings about stack settings (key-prefixed), not the runtime's own (e.g. undefined stack outputs). */
const settingWarnings = (run: ProgramRun) => (run.warnings ?? []).filter((w) => w.startsWith("sqs-eks-consumer:"));

describe("preview warnings", () => {
  it("a handler timeout above the shutdown budget and more handler slots than the memory budget fills are shown with their numbers; fitting settings show none", async () => {
    const [risky, fitting] = await runPrograms([
      await scenario("risky", {
        consumer: { handlerTimeoutSeconds: 300, shutdownBudgetSeconds: 30, handlerConcurrency: 500 },
        memoryLimitMiB: 512,
        memoryRequestMiB: 256,
        maxMessageSizeBytes: 1_048_576,
      }),
      await scenario("fitting", {
        consumer: { handlerTimeoutSeconds: 20, shutdownBudgetSeconds: 25, handlerConcurrency: 100 },
        memoryLimitMiB: 256,
      }),
    ]);
    assertSucceeded(risky!);
    assertSucceeded(fitting!);
    const warnings = settingWarnings(risky!);
    assert.equal(warnings.length, 2, JSON.stringify(risky!.warnings));
    assert.match(
      warnings[0]!,
      /^sqs-eks-consumer:consumer\.handlerTimeoutSeconds: 300 s is above sqs-eks-consumer:consumer\.shutdownBudgetSeconds \(30 s\)/,
    );
    assert.match(
      warnings[1]!,
      /^sqs-eks-consumer:consumer\.handlerConcurrency: with bodies of 1 MiB, the largest the queue accepts \(sqs-eks-consumer:maxMessageSizeBytes 1048576\), the consumer holds at most \d+ messages at once.*memoryLimitMiB 512 MiB/,
    );
    assert.ok(
      risky!.resources.some((r) => r.type === "kubernetes:apps/v1:Deployment"),
      "a warning must not stop the deployment",
    );
    assert.deepEqual(settingWarnings(fitting!), []);
  });
});
