/** Physical names scoped by project and stack (infra/names.ts), within each service's limits. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FIFO_QUEUE_SUFFIX, NAME_LIMITS, scopedName, sqsQueueName } from "../infra/names";

/** SQS queue names: 1 to 80 alphanumeric characters, hyphens or underscores; a FIFO queue's end in .fifo, counted in the 80 (CreateQueue, QueueName). */
const SQS_FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;

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
          for (const [i, name] of names.entries()) {
            assert.match(name, SQS_FIFO_NAME, `stack ${JSON.stringify(stack)}: ${name}`);
            assert.ok(name.endsWith(`-${["queue", "dlq"][i]}${FIFO_QUEUE_SUFFIX}`), name);
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
    assert.equal(sqsQueueName({ project: "p", stack: "dev" }, "queue", false), "p-dev-queue");
    assert.equal(sqsQueueName({ project: "p", stack: "dev" }, "queue", true), "p-dev-queue.fifo");
    const longer = { ...scope, stack: `${scope.stack}y` };
    assert.equal(sqsQueueName(longer, "queue", true).length <= 80, true);
    assert.notEqual(
      sqsQueueName(longer, "queue", true),
      `${sqsQueueName(longer, "queue", false)}${FIFO_QUEUE_SUFFIX}`,
      "76 + 5 > 80: shortened with a hash",
    );
  });
});
