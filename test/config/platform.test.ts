import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { instanceArchitecture } from "../../infra/config";
import { k, valid } from "./helpers";

describe("parseStackConfig: the image platform", () => {
  it("accepts Graviton nodes with an arm64 image, and admin principals", () => {
    const config = valid({
      [k("nodeInstanceType")]: "t4g.small",
      [k("imagePlatform")]: "linux/arm64",
      [k("clusterAdminPrincipalArns")]: JSON.stringify(["arn:aws:iam::123456789012:role/developers"]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.adminPrincipalArns, ["arn:aws:iam::123456789012:role/developers"]);
  });
});

describe("instanceArchitecture", () => {
  it("recognises Graviton families", () => {
    for (const type of [
      "t4g.small",
      "m7g.large",
      "c7gn.xlarge",
      "r8g.medium",
      "m6gd.large",
      "a1.large",
      "g5g.xlarge",
    ]) {
      assert.equal(instanceArchitecture(type), "arm64", type);
    }
    for (const type of ["t3.small", "m7i.large", "m7i-flex.large", "c6a.large", "g4dn.xlarge", "inf2.xlarge"]) {
      assert.equal(instanceArchitecture(type), "amd64", type);
    }
  });
});
