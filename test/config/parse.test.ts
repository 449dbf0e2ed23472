/**
 * Parsing (infra/config/parse.ts): key types, ranges and lists; flags; and the project's own namespace.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIG_KEYS, parseStackConfig, type ConfigKeySpec } from "../../infra/config";
import { k, problems, valid } from "./helpers";

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

/**
 * Flags are boolean keys: Pulumi.yaml declares them `type: boolean`, and the program takes exactly what
 * the Pulumi SDK's `Config.getBoolean` takes (the strings "true" and "false", what the CLI passes for a
 * YAML `true`/`false`); anything else is a problem naming the key.
 */

const FLAGS = Object.entries(CONFIG_KEYS as Record<string, ConfigKeySpec>)
  .filter(([, spec]) => spec.type === "boolean")
  .map(([key]) => key);

describe("boolean keys", () => {
  it('no string key stands in for a flag (a default of "true" or "false")', () => {
    const stringly = Object.entries(CONFIG_KEYS as Record<string, ConfigKeySpec>).filter(
      ([, spec]) => spec.type === "string" && /^(true|false)$/i.test(spec.default),
    );
    assert.deepEqual(
      stringly.map(([key]) => key),
      [],
    );
    assert.ok(FLAGS.includes("prometheusOperator"), FLAGS.join(", "));
  });

  it("prometheusOperator takes true and false", () => {
    assert.equal(valid({ [k("prometheusOperator")]: "true" }).telemetry.prometheusOperator, true);
    assert.equal(valid({ [k("prometheusOperator")]: "false" }).telemetry.prometheusOperator, false);
    assert.equal(valid({}).telemetry.prometheusOperator, false);
  });

  for (const key of FLAGS) {
    it(`${key}: anything but true or false is a problem naming it`, () => {
      for (const text of ["yes", "1", "True", "on"]) {
        assert.equal(
          problems({ [k("queueType")]: "fifo", [k(key)]: text }).get(k(key)),
          `must be true or false, got "${text}"`,
        );
      }
    });
  }
});

/** The program reads its keys in the running project's namespace, whatever Pulumi.yaml names the project. */

const renamed = (values: Record<string, string>) =>
  parseStackConfig({ project: "orders-consumer", stack: "alice", organization: "acme", values });

describe("parseStackConfig: the project's own namespace", () => {
  it("reads `pulumi config set clusterMode borrow` in a renamed project", () => {
    const result = renamed({
      "orders-consumer:clusterMode": "borrow",
      "orders-consumer:clusterStack": "acme/orders-consumer/dev",
      "orders-consumer:ephemeral": "true",
    });
    assert.ok(result.ok, JSON.stringify(result.ok ? "" : result.problems));
    assert.deepEqual(result.value.cluster, {
      mode: "borrow",
      clusterStack: "acme/orders-consumer/dev",
      ttlHours: 72,
      requireOidcProvider: true,
    });
    assert.equal(result.value.scope.project, "orders-consumer");
  });

  it("names problems in the renamed namespace", () => {
    const result = renamed({
      "orders-consumer:replicas": "many",
      "orders-consumer:clusterMode": "borrow",
      "orders-consumer:clusterStack": "acme/sqs-eks-consumer/dev",
    });
    assert.ok(!result.ok);
    const byKey = new Map(result.problems.map((p) => [p.key, p.reason]));
    assert.match(byKey.get("orders-consumer:replicas")!, /whole number/);
    assert.match(byKey.get("orders-consumer:clusterStack")!, /must name a stack of this project \(orders-consumer\)/);
  });

  it("rejects keys left under the template's name, and unknown keys in the project's namespace, but not other namespaces", () => {
    const result = renamed({
      "sqs-eks-consumer:clusterMode": "borrow",
      "sqs-eks-consumer:colour": "red",
      "orders-consumer:replica": "2",
      "aws:region": "eu-west-1",
      "kubernetes:context": "x",
    });
    assert.ok(!result.ok);
    const byKey = new Map(result.problems.map((p) => [p.key, p.reason]));
    assert.deepEqual([...byKey.keys()].sort(), [
      "orders-consumer:replica",
      "sqs-eks-consumer:clusterMode",
      "sqs-eks-consumer:colour",
    ]);
    assert.match(
      byKey.get("sqs-eks-consumer:clusterMode")!,
      /this project is named orders-consumer .* not read; set it as orders-consumer:clusterMode/,
    );
    assert.doesNotMatch(byKey.get("sqs-eks-consumer:colour")!, /set it as/);
    assert.match(byKey.get("orders-consumer:replica")!, /unknown config key/);
  });
});
