import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TUNABLES } from "../../consumer/src/settings";
import { CONFIG_KEYS, DEFAULT_REGION, StackConfigError } from "../../infra/config";
import { k, parse, valid } from "./helpers";

describe("parseStackConfig", () => {
  it("takes every default from the key table when nothing is set", () => {
    const config = valid({});
    assert.equal(config.region, DEFAULT_REGION);
    assert.deepEqual(config.cluster, {
      mode: "create",
      kubernetesVersion: undefined,
      // The key's default is empty: Auto Mode, and the stack said nothing (infra/lifecycle.ts asks older stacks).
      nodeProvisioning: "auto-mode",
      nodeProvisioningSet: false,
      nodeInstanceType: CONFIG_KEYS.nodeInstanceType.default,
      nodeCount: { min: 1, desired: 2, max: 3 },
      adminPrincipalArns: [],
      developers: [],
      developerQuota: { pods: 4, cpuMillicores: 500, memoryMiB: 1024 },
      developerCleanupPrincipalArn: undefined,
      ci: { deployRoleArn: undefined, previewRoleArn: undefined },
      addonVersions: { vpcCni: undefined, kubeProxy: undefined, coredns: undefined, podIdentityAgent: undefined },
    });
    assert.equal(config.imagePlatform, "linux/amd64");
    assert.deepEqual(config.queue, {
      type: "standard",
      contentBasedDeduplication: false,
      highThroughput: true,
      maxReceiveCount: 5,
      maxMessageSizeBytes: 262_144,
      messageRetentionSeconds: 345_600,
      dlqMessageRetentionSeconds: 1_209_600,
    });
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

  it("rejects several bad keys at once, across the infra keys and the consumer block, naming each", () => {
    const result = parse({
      "aws:region": "mars-north",
      [k("clusterMode")]: "borrowed",
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
    assert.deepEqual(
      [...byKey.keys()].sort(),
      [
        "aws:region",
        k("clusterMode"),
        k("consumer.handlerTimeoutSeconds"),
        k("consumer.logLevel"),
        k("consumer.recieveLoops"),
        k("dlqMessageRetentionSeconds"),
        k("memoryLimitMiB"),
        k("replica"),
        k("replicas"),
      ].sort(),
    );
    assert.match(byKey.get("aws:region")!, /not an AWS region/);
    assert.match(byKey.get(k("clusterMode"))!, /one of create, borrow, adopt, got "borrowed"/);
    assert.match(byKey.get(k("replicas"))!, /whole number of pods, got "two"/);
    assert.match(byKey.get(k("memoryLimitMiB"))!, /below memoryRequestMiB \(128\)/);
    assert.match(byKey.get(k("dlqMessageRetentionSeconds"))!, /below messageRetentionSeconds/);
    assert.match(byKey.get(k("consumer.handlerTimeoutSeconds"))!, /between 1 and 43000/);
    assert.match(byKey.get(k("consumer.logLevel"))!, /one of fatal, error/);
    assert.match(byKey.get(k("consumer.recieveLoops"))!, /unknown setting/);
    assert.match(byKey.get(k("replica"))!, /unknown config key/);

    const error = new StackConfigError(result.problems);
    assert.equal(error.code, "InvalidStackConfig");
    assert.match(error.message, /9 problems/);
    for (const key of byKey.keys()) assert.ok(error.message.includes(`${key}: `), `message should name ${key}`);
  });

  it("ignores other namespaces' keys (provider settings)", () => {
    valid({ "aws:profile": "dev", "kubernetes:context": "x" });
  });
});
