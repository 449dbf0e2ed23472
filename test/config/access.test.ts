import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

const ALICE = "arn:aws:iam::123456789012:role/alice";
const ADMIN = "arn:aws:iam::123456789012:role/platform";

describe("parseStackConfig: who may use a created cluster", () => {
  it("reads developer stacks as <stack>=<principal ARN>; a principal may hold several stacks", () => {
    const config = valid({
      [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]),
      [k("developerStacks")]: JSON.stringify([`alice=${ALICE}`, ` alice-2 = ${ALICE} `]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.developerStacks, [
      { stack: "alice", principalArn: ALICE },
      { stack: "alice-2", principalArn: ALICE },
    ]);
  });

  it("rejects malformed entries, duplicates, this stack, and an admin listed as a developer, in one problem", () => {
    const reason = problems({
      [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]),
      [k("developerStacks")]: JSON.stringify([
        "alice",
        `bob=${ALICE}`,
        `bob=${ALICE}`,
        `dev=${ALICE}`,
        `carol=${ADMIN}`,
        "dan=arn:aws:sts::123456789012:assumed-role/x/y",
      ]),
    }).get(k("developerStacks"))!;
    assert.match(reason, /"alice" is not <stack>=<IAM role or user ARN>/);
    assert.match(reason, /"bob" is listed twice/);
    assert.match(reason, /"dev" is this stack/);
    assert.match(reason, /role\/platform \(for "carol"\) is in clusterAdminPrincipalArns/);
    assert.match(reason, /"dan=arn:aws:sts::123456789012:assumed-role\/x\/y" is not/);
  });

  it("leaves the Kubernetes version unpinned by default, and checks a pinned one", () => {
    const config = valid({});
    assert.ok(config.cluster.mode === "create");
    assert.equal(config.cluster.kubernetesVersion, undefined);
    const pinned = valid({ [k("kubernetesVersion")]: "1.34" });
    assert.ok(pinned.cluster.mode === "create");
    assert.equal(pinned.cluster.kubernetesVersion, "1.34");
    assert.match(problems({ [k("kubernetesVersion")]: "latest" }).get(k("kubernetesVersion"))!, /must look like 1\.34/);
  });
});
