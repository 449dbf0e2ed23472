import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NAME_LIMITS, scopedName } from "../infra/names";

const project = "sqs-eks-consumer";

describe("scopedName", () => {
  it("is <project>-<stack>-<role> when that fits and the stack name is already clean", () => {
    assert.equal(scopedName({ project, stack: "dev" }, "queue", NAME_LIMITS.sqsQueue), "sqs-eks-consumer-dev-queue");
    assert.equal(scopedName({ project, stack: "dev" }, "", NAME_LIMITS.kubernetesNamespace), "sqs-eks-consumer-dev");
  });

  it("stays within every limit and keeps the role, for long stack names", () => {
    const stack = "a-very-long-developer-stack-name-that-goes-on-and-on-forever";
    for (const [service, limit] of Object.entries(NAME_LIMITS)) {
      const name = scopedName({ project, stack }, "consumer", limit);
      assert.ok(name.length <= limit, `${service}: ${name} is ${name.length} > ${limit}`);
      assert.match(name, /-consumer$/);
      assert.match(name, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    }
  });

  it("never maps two stacks to one name, even when truncation or cleaning would", () => {
    const prefix = "feature-branch-with-a-long-name-for-the-new-retry-logic";
    const stacks = [`${prefix}-alice`, `${prefix}-bob`, "Dev", "dev", "dev_1", "dev-1", "dev.1"];
    for (const limit of [NAME_LIMITS.iamRole, NAME_LIMITS.kubernetesNamespace]) {
      const names = stacks.map((stack) => scopedName({ project, stack }, "consumer", limit));
      assert.equal(new Set(names).size, stacks.length, names.join(", "));
    }
  });

  it("uses only characters every target service accepts", () => {
    const name = scopedName({ project, stack: "Team_A.feature" }, "dlq", NAME_LIMITS.sqsQueue);
    assert.match(name, /^[a-z0-9-]+$/);
  });

  it("refuses a role that leaves no room for the scope", () => {
    assert.throws(() => scopedName({ project, stack: "dev" }, "x".repeat(60), 63), /leaves no room/);
  });
});
