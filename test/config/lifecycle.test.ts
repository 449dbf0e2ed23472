/** The lifecycle concern (infra/config/lifecycle.ts): long-lived or ephemeral, and a developer stack's must be ephemeral. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

const BORROW = { [k("clusterMode")]: "borrow", [k("clusterStack")]: "acme/sqs-eks-consumer/shared" };

describe("parseStackConfig: the lifecycle", () => {
  it("is long-lived by default, and ephemeral when asked, in create and adopt mode alike", () => {
    assert.deepEqual(valid({}).lifecycle, { ephemeral: false, allowQueueReplacement: false });
    assert.deepEqual(valid({ [k("ephemeral")]: "true" }).lifecycle, { ephemeral: true, allowQueueReplacement: false });
    const adopted = { [k("clusterMode")]: "adopt", [k("clusterName")]: "platform-prod" };
    assert.equal(valid(adopted).lifecycle.ephemeral, false);
  });

  it("refuses a developer stack (borrow mode) that is not ephemeral, naming the key and the command that fixes it", () => {
    const found = problems(BORROW);
    assert.deepEqual([...found.keys()], [k("ephemeral")]);
    const reason = found.get(k("ephemeral"))!;
    assert.match(reason, /^must be true when clusterMode is borrow/);
    assert.match(reason, /the cleanup job once its ttlHours have passed/);
    assert.match(reason, /pulumi destroy stops at protected resources/);
    assert.match(reason, /pulumi config set ephemeral true/);
  });

  it("takes an ephemeral developer stack, with nothing to protect", () => {
    assert.deepEqual(valid({ ...BORROW, [k("ephemeral")]: "true" }).lifecycle, {
      ephemeral: true,
      allowQueueReplacement: false,
    });
  });

  it("names both keys when a developer stack asks to replace its queues instead", () => {
    const found = problems({ ...BORROW, [k("allowQueueReplacement")]: "true" });
    assert.deepEqual([...found.keys()].sort(), [k("allowQueueReplacement"), k("ephemeral")].sort());
  });
});
