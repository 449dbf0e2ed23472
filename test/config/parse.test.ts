import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems } from "./helpers";

describe("parseStackConfig: key types, ranges and lists (parse.ts)", () => {
  it("checks integer ranges, lists and principal ARNs", () => {
    assert.match(problems({ [k("replicas")]: "0" }).get(k("replicas"))!, /between 1 and 100 pods, got 0/);
    assert.match(
      problems({ [k("maxReceiveCount")]: "1001" }).get(k("maxReceiveCount"))!,
      /between 1 and 1000 receives/,
    );
    assert.match(
      problems({ [k("cpuLimitMillicores")]: "50" }).get(k("cpuLimitMillicores"))!,
      /below cpuRequestMillicores \(100\)/,
    );
    assert.match(
      problems({ [k("clusterAdminPrincipalArns")]: "alice" }).get(k("clusterAdminPrincipalArns"))!,
      /list of strings/,
    );
    assert.match(
      problems({ [k("clusterAdminPrincipalArns")]: JSON.stringify(["arn:aws:iam::123456789012:group/devs"]) }).get(
        k("clusterAdminPrincipalArns"),
      )!,
      /not IAM role or user ARNs: "arn:aws:iam::123456789012:group\/devs"/,
    );
  });
});
