import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: the identity mode", () => {
  it("defaults to IRSA", () => {
    assert.deepEqual(valid({}).identity, { mode: "irsa" });
  });

  it("accepts pod-identity in every cluster mode", () => {
    assert.deepEqual(valid({ [k("identity")]: "pod-identity" }).identity, { mode: "pod-identity" });
    const borrowed = valid({
      [k("identity")]: "pod-identity",
      [k("clusterMode")]: "borrow",
      [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
    });
    assert.deepEqual(borrowed.identity, { mode: "pod-identity" });
    const adopted = valid({
      [k("identity")]: "pod-identity",
      [k("clusterMode")]: "adopt",
      [k("clusterName")]: "platform",
    });
    assert.deepEqual(adopted.identity, { mode: "pod-identity" });
  });

  it("names the key and the choices for anything else, beside other bad keys", () => {
    const found = problems({ [k("identity")]: "podidentity", [k("replicas")]: "0" });
    assert.equal(found.get(k("identity")), 'must be one of irsa, pod-identity, got "podidentity"');
    assert.ok(found.has(k("replicas")));
  });
});
