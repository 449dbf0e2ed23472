import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TUNABLES } from "../consumer/src/settings";
import {
  CONFIG_KEYS,
  DEFAULT_REGION,
  StackConfigError,
  instanceArchitecture,
  parseStackConfig,
  type ConfigResult,
  type StackConfig,
} from "../infra/config";

const base = { project: "sqs-eks-consumer", stack: "dev", organization: "acme" };

function parse(values: Record<string, string>): ConfigResult {
  return parseStackConfig({ ...base, values });
}

function valid(values: Record<string, string>): StackConfig {
  const result = parse(values);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return result.value;
}

/** The problems of an invalid config, as key -> reason. */
function problems(values: Record<string, string>): Map<string, string> {
  const result = parse(values);
  assert.ok(!result.ok, "expected the config to be rejected");
  return new Map(result.problems.map((p) => [p.key, p.reason]));
}

const k = (key: string) => `sqs-eks-consumer:${key}`;

describe("parseStackConfig", () => {
  it("takes every default from the key table when nothing is set", () => {
    const config = valid({});
    assert.equal(config.region, DEFAULT_REGION);
    assert.deepEqual(config.cluster, {
      mode: "create",
      kubernetesVersion: CONFIG_KEYS.kubernetesVersion.default,
      nodeInstanceType: CONFIG_KEYS.nodeInstanceType.default,
      nodeCount: { min: 1, desired: 2, max: 3 },
      adminPrincipalArns: [],
    });
    assert.equal(config.imagePlatform, "linux/amd64");
    assert.deepEqual(config.queue, { maxReceiveCount: 5, messageRetentionSeconds: 345_600, dlqMessageRetentionSeconds: 1_209_600 });
    assert.deepEqual(config.workload, {
      replicas: 2,
      cpuRequestMillicores: 100,
      cpuLimitMillicores: 500,
      memoryRequestMiB: 128,
      memoryLimitMiB: 256,
    });
    assert.deepEqual(config.tunables, DEFAULT_TUNABLES);
    assert.deepEqual(config.scope, { project: "sqs-eks-consumer", stack: "dev" });
  });

  it("reads the consumer block with the consumer's schema (numbers or numeric strings)", () => {
    const config = valid({ [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 300, receiveLoops: "4", logLevel: "debug" }) });
    assert.equal(config.tunables.handlerTimeoutSeconds, 300);
    assert.equal(config.tunables.receiveLoops, 4);
    assert.equal(config.tunables.logLevel, "debug");
  });

  it("reads stack mode and existing mode", () => {
    assert.deepEqual(valid({ [k("clusterMode")]: "stack", [k("clusterStack")]: "acme/sqs-eks-consumer/shared" }).cluster, {
      mode: "stack",
      clusterStack: "acme/sqs-eks-consumer/shared",
    });
    assert.deepEqual(valid({ [k("clusterMode")]: "existing", [k("clusterName")]: "platform-prod" }).cluster, {
      mode: "existing",
      clusterName: "platform-prod",
    });
  });

  it("accepts Graviton nodes with an arm64 image, and admin principals", () => {
    const config = valid({
      [k("nodeInstanceType")]: "t4g.small",
      [k("imagePlatform")]: "linux/arm64",
      [k("clusterAdminPrincipalArns")]: JSON.stringify(["arn:aws:iam::123456789012:role/developers"]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.adminPrincipalArns, ["arn:aws:iam::123456789012:role/developers"]);
  });

  it("rejects several bad keys at once, across the infra keys and the consumer block, naming each", () => {
    const result = parse({
      "aws:region": "mars-north",
      [k("clusterMode")]: "borrow",
      [k("replicas")]: "two",
      [k("memoryLimitMiB")]: "64",
      [k("memoryRequestMiB")]: "128",
      [k("messageRetentionSeconds")]: "1209600",
      [k("dlqMessageRetentionSeconds")]: "86400",
      [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 0, logLevel: "loud", recieveLoops: 2 }),
      [k("replica")]: "3",
    });
    assert.ok(!result.ok);
    const byKey = new Map(result.problems.map((p) => [p.key, p.reason]));
    assert.deepEqual([...byKey.keys()].sort(), [
      "aws:region",
      k("clusterMode"),
      k("consumer.handlerTimeoutSeconds"),
      k("consumer.logLevel"),
      k("consumer.recieveLoops"),
      k("dlqMessageRetentionSeconds"),
      k("memoryLimitMiB"),
      k("replica"),
      k("replicas"),
    ].sort());
    assert.match(byKey.get("aws:region")!, /not an AWS region/);
    assert.match(byKey.get(k("clusterMode"))!, /one of create, stack, existing, got "borrow"/);
    assert.match(byKey.get(k("replicas"))!, /whole number of pods, got "two"/);
    assert.match(byKey.get(k("memoryLimitMiB"))!, /below memoryRequestMiB \(128\)/);
    assert.match(byKey.get(k("dlqMessageRetentionSeconds"))!, /below messageRetentionSeconds/);
    assert.match(byKey.get(k("consumer.handlerTimeoutSeconds"))!, /between 1 and 43000/);
    assert.match(byKey.get(k("consumer.logLevel"))!, /one of fatal, error/);
    assert.match(byKey.get(k("consumer.recieveLoops"))!, /unknown setting/);
    assert.match(byKey.get(k("replica"))!, /unknown config key/);

    const error = new StackConfigError(result.problems);
    assert.equal(error.code, "SQS_EKS_CONSUMER_INVALID_CONFIG");
    assert.match(error.message, /9 problems/);
    for (const key of byKey.keys()) assert.ok(error.message.includes(`${key}: `), `message should name ${key}`);
  });

  it("rejects exactly what the consumer would reject (the shared schema's limits and cross-checks)", () => {
    const bad = problems({ [k("consumer")]: JSON.stringify({ retryBaseSeconds: 30, retryMaxSeconds: 10, maxMessages: 11 }) });
    assert.match(bad.get(k("consumer.maxMessages"))!, /between 1 and 10/);
    const crossChecked = problems({ [k("consumer")]: JSON.stringify({ retryBaseSeconds: 30, retryMaxSeconds: 10 }) });
    assert.match(crossChecked.get(k("consumer.retryMaxSeconds"))!, /below .*retryBaseSeconds \(30\)/);
  });

  it("requires a health port Kubernetes can probe and a non-root pod can bind", () => {
    assert.match(problems({ [k("consumer")]: JSON.stringify({ healthPort: 0 }) }).get(k("consumer.healthPort"))!, /at least 1024/);
    assert.match(problems({ [k("consumer")]: JSON.stringify({ healthPort: 80 }) }).get(k("consumer.healthPort"))!, /at least 1024/);
  });

  it("rejects a consumer block that is not an object", () => {
    assert.match(problems({ [k("consumer")]: "[1,2]" }).get(k("consumer"))!, /must be an object/);
    assert.match(problems({ [k("consumer")]: "fast" }).get(k("consumer"))!, /must be an object/);
  });

  it("requires clusterStack in stack mode, in the <organization>/<project>/<stack> form, naming another stack of this project", () => {
    const stack = (clusterStack: string) =>
      problems({ [k("clusterMode")]: "stack", [k("clusterStack")]: clusterStack }).get(k("clusterStack"))!;
    assert.match(problems({ [k("clusterMode")]: "stack" }).get(k("clusterStack"))!, /required when clusterMode is stack/);
    assert.match(stack("shared"), /must be <organization>\/sqs-eks-consumer\/<stack>/);
    assert.match(stack("acme/other-project/shared"), /must name a stack of this project/);
    assert.match(stack("acme/sqs-eks-consumer/dev"), /cannot borrow its own cluster/);
  });

  it("requires clusterName in existing mode", () => {
    assert.match(problems({ [k("clusterMode")]: "existing" }).get(k("clusterName"))!, /required when clusterMode is existing/);
    assert.match(
      problems({ [k("clusterMode")]: "existing", [k("clusterName")]: "bad name!" }).get(k("clusterName"))!,
      /not an EKS cluster name/,
    );
  });

  it("rejects keys of another cluster mode, so a stale setting never passes silently", () => {
    const stackMode = problems({
      [k("clusterMode")]: "stack",
      [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
      [k("nodeInstanceType")]: "m7i.large",
      [k("nodeMaxCount")]: "10",
      [k("clusterName")]: "platform-prod",
    });
    assert.deepEqual([...stackMode.keys()].sort(), [k("clusterName"), k("nodeInstanceType"), k("nodeMaxCount")].sort());
    assert.match(stackMode.get(k("nodeInstanceType"))!, /applies only when clusterMode is create \(this stack uses stack\)/);
    assert.match(stackMode.get(k("clusterName"))!, /applies only when clusterMode is existing/);
    const createMode = problems({ [k("clusterStack")]: "acme/sqs-eks-consumer/shared" });
    assert.match(createMode.get(k("clusterStack"))!, /applies only when clusterMode is stack/);
  });

  it("checks the node group: counts in order, a real instance type, its architecture matching the image", () => {
    const counts = problems({ [k("nodeMinCount")]: "3", [k("nodeDesiredCount")]: "1", [k("nodeMaxCount")]: "2" });
    assert.match(counts.get(k("nodeMinCount"))!, /above nodeMaxCount \(2\)/);
    assert.match(counts.get(k("nodeDesiredCount"))!, /outside nodeMinCount\.\.nodeMaxCount \(3\.\.2\)/);
    assert.match(problems({ [k("nodeInstanceType")]: "large" }).get(k("nodeInstanceType"))!, /EC2 instance type/);
    assert.match(
      problems({ [k("nodeInstanceType")]: "m7g.large" }).get(k("nodeInstanceType"))!,
      /m7g\.large is arm64 but imagePlatform is linux\/amd64/,
    );
    assert.match(
      problems({ [k("imagePlatform")]: "linux/arm64" }).get(k("nodeInstanceType"))!,
      /t3\.medium is amd64 but imagePlatform is linux\/arm64/,
    );
    assert.match(problems({ [k("imagePlatform")]: "windows/amd64" }).get(k("imagePlatform"))!, /one of linux\/amd64, linux\/arm64/);
    assert.match(problems({ [k("kubernetesVersion")]: "latest" }).get(k("kubernetesVersion"))!, /must look like 1\.33/);
  });

  it("checks integer ranges, lists and principal ARNs", () => {
    assert.match(problems({ [k("replicas")]: "0" }).get(k("replicas"))!, /between 1 and 100 pods, got 0/);
    assert.match(problems({ [k("maxReceiveCount")]: "1001" }).get(k("maxReceiveCount"))!, /between 1 and 1000 receives/);
    assert.match(problems({ [k("cpuLimitMillicores")]: "50" }).get(k("cpuLimitMillicores"))!, /below cpuRequestMillicores \(100\)/);
    assert.match(problems({ [k("clusterAdminPrincipalArns")]: "alice" }).get(k("clusterAdminPrincipalArns"))!, /list of strings/);
    assert.match(
      problems({ [k("clusterAdminPrincipalArns")]: JSON.stringify(["arn:aws:iam::123456789012:group/devs"]) }).get(
        k("clusterAdminPrincipalArns"),
      )!,
      /not IAM role or user ARNs: "arn:aws:iam::123456789012:group\/devs"/,
    );
  });

  it("ignores other namespaces' keys (provider settings)", () => {
    valid({ "aws:profile": "dev", "kubernetes:context": "x" });
  });
});

describe("instanceArchitecture", () => {
  it("recognises Graviton families", () => {
    for (const type of ["t4g.small", "m7g.large", "c7gn.xlarge", "r8g.medium", "m6gd.large", "a1.large", "g5g.xlarge"]) {
      assert.equal(instanceArchitecture(type), "arm64", type);
    }
    for (const type of ["t3.small", "m7i.large", "m7i-flex.large", "c6a.large", "g4dn.xlarge", "inf2.xlarge"]) {
      assert.equal(instanceArchitecture(type), "amd64", type);
    }
  });
});
