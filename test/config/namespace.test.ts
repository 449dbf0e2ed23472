/** The program reads its keys in the running project's namespace, whatever Pulumi.yaml names the project. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../infra/config";

const renamed = (values: Record<string, string>) =>
  parseStackConfig({ project: "orders-consumer", stack: "alice", organization: "acme", values });

describe("parseStackConfig: the project's own namespace", () => {
  it("reads `pulumi config set clusterMode borrow` in a renamed project", () => {
    const result = renamed({
      "orders-consumer:clusterMode": "borrow",
      "orders-consumer:clusterStack": "acme/orders-consumer/dev",
    });
    assert.ok(result.ok, JSON.stringify(result.ok ? "" : result.problems));
    assert.deepEqual(result.value.cluster, { mode: "borrow", clusterStack: "acme/orders-consumer/dev" });
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
