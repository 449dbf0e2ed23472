/**
 * Keys that have an effect only in some configurations: set away from their default where they would do
 * nothing, each is a problem naming it and the condition, for the whole kind (every key with a `mode` or
 * an `appliesWhen` in keys.ts), not only the examples.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIG_KEYS, type ConfigKey, type ConfigKeySpec } from "../../infra/config";
import { k, parse, problems, valid } from "./helpers";

/** A valid value other than the default, for each scoped key. */
const SAMPLES: Partial<Record<ConfigKey, string>> = {
  clusterStack: "acme/sqs-eks-consumer/shared",
  clusterName: "platform",
  kubernetesVersion: "1.34",
  nodeProvisioning: "node-group",
  nodeInstanceType: "m7i.large",
  clusterAdminPrincipalArns: '["arn:aws:iam::123456789012:role/admin"]',
  developers: '["alice=arn:aws:iam::123456789012:role/alice"]',
  privateSubnetIds: '["subnet-0aaaaaaaaaaaaaaaa","subnet-0bbbbbbbbbbbbbbbb"]',
  publicSubnetIds: '["subnet-0cccccccccccccccc"]',
  vpcCidr: "10.1.0.0/16",
  natGateways: "single",
  vpcId: "vpc-0123456789abcdef0",
  endpointPublicAccessCidrs: '["203.0.113.7/32"]',
  otlpProtocol: "http/json",
  ciDeployRoleArn: "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-deploy",
  developerCleanupPrincipalArn: "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-cleanup",
  ciPreviewRoleArn: "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-preview",
  vpcCniAddonVersion: "v1.19.2-eksbuild.5",
  kubeProxyAddonVersion: "v1.32.3-eksbuild.7",
  corednsAddonVersion: "v1.11.4-eksbuild.2",
  podIdentityAgentAddonVersion: "v1.3.4-eksbuild.1",
};

function sample(key: ConfigKey): string {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  switch (spec.type) {
    case "integer":
      return String(spec.default < spec.max ? spec.default + 1 : spec.default - 1);
    case "boolean":
      return String(!spec.default);
    default: {
      const value = SAMPLES[key];
      assert.ok(value !== undefined, `no sample value for ${key}`);
      return value;
    }
  }
}

const SCOPED = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((key) => {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  return spec.mode !== undefined || spec.appliesWhen !== undefined;
});

/** A configuration where the key's condition fails (another cluster mode, or its `appliesWhen` false). */
function without(key: ConfigKey): Record<string, string> {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  if (spec.mode === "create" || spec.mode === "adopt")
    return { [k("clusterMode")]: "borrow", [k("clusterStack")]: "acme/sqs-eks-consumer/shared" };
  if (spec.mode === "borrow") return {};
  const condition = spec.appliesWhen!;
  if ("set" in condition)
    return condition.set
      ? {}
      : { [k(condition.key)]: condition.key === "vpcId" ? "vpc-0123456789abcdef0" : "http://collector:4318" };
  // The other conditions fail at the defaults (autoscaling off, a standard queue), except a boolean's.
  if (condition.key === "ephemeral") return { [k(condition.key)]: String(!condition.is) };
  return {};
}

/** A configuration where the key's condition holds. */
function within(key: ConfigKey): Record<string, string> {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  const values: Record<string, string> = {};
  if (spec.mode === "borrow") Object.assign(values, { [k("clusterMode")]: "borrow" });
  if (spec.mode === "adopt") Object.assign(values, { [k("clusterMode")]: "adopt" });
  // The agent's add-on is installed only beside a managed node group: Auto Mode runs the agent itself.
  if (key === "podIdentityAgentAddonVersion") values[k("nodeProvisioning")] = "node-group";
  const condition = spec.appliesWhen;
  if (condition !== undefined) {
    if (!("set" in condition)) values[k(condition.key)] = String(condition.is);
    else if (condition.set)
      values[k(condition.key)] = condition.key === "vpcId" ? "vpc-0123456789abcdef0" : "http://collector:4318";
  }
  return values;
}

function appliesProblems(values: Record<string, string>): string[] {
  const result = parse(values);
  return result.ok
    ? []
    : result.problems.filter((p) => p.reason.startsWith("applies only when")).map((p) => `${p.key}: ${p.reason}`);
}

describe("keys that apply only in some configurations", () => {
  it("covers the kind: the cluster-mode, VPC, FIFO, autoscaling, tracing and long-lived-only keys", () => {
    for (const key of [
      "nodeProvisioning",
      "nodeInstanceType",
      "clusterStack",
      "clusterName",
      "vpcCidr",
      "privateSubnetIds",
      "contentBasedDeduplication",
      "fifoHighThroughput",
      "maxReplicas",
      "alarmMaxReplicasMinutes",
      "otlpProtocol",
      "allowQueueReplacement",
    ] as const) {
      assert.ok(SCOPED.includes(key), `${key} is scoped`);
    }
  });

  it("rejects alarmMaxReplicasMinutes while autoscaling is off: no max-replicas alarm exists to use it", () => {
    assert.equal(
      problems({ [k("alarmMaxReplicasMinutes")]: "30" }).get(k("alarmMaxReplicasMinutes")),
      "applies only when autoscaling is keda (this stack's autoscaling is off); remove it",
    );
    assert.equal(
      valid({ [k("autoscaling")]: "keda", [k("alarmMaxReplicasMinutes")]: "30" }).alarms.maxReplicasMinutes,
      30,
    );
  });

  it("rejects otlpProtocol without otlpEndpoint: nothing exports traces", () => {
    assert.equal(
      problems({ [k("otlpProtocol")]: "http/json" }).get(k("otlpProtocol")),
      "applies only when otlpEndpoint is set (this stack's otlpEndpoint is empty); remove it",
    );
    assert.equal(
      valid({ [k("otlpEndpoint")]: "http://collector:4318", [k("otlpProtocol")]: "http/json" }).telemetry.otlpProtocol,
      "http/json",
    );
  });

  for (const key of SCOPED) {
    it(`${key}: a problem naming it where it would do nothing, none where it applies`, () => {
      const value = sample(key);
      const outside = appliesProblems({ ...without(key), [k(key)]: value });
      assert.deepEqual(
        outside.filter((p) => p.startsWith(`${k(key)}: `)).length,
        1,
        `${key}=${value} outside its condition: ${outside.join("; ")}`,
      );
      const inside = appliesProblems({ ...within(key), [k(key)]: value });
      assert.deepEqual(inside, [], `${key}=${value} where it applies`);
    });
  }

  it("lets a key at its default pass anywhere (the CLI merges Pulumi.yaml's defaults into every stack's config)", () => {
    const defaults = Object.fromEntries(
      SCOPED.map((key) => [k(key), JSON.stringify(CONFIG_KEYS[key].default).replace(/^"(.*)"$/, "$1")]),
    );
    assert.deepEqual(appliesProblems(defaults), []);
    assert.deepEqual(
      appliesProblems({ ...defaults, [k("clusterMode")]: "adopt", [k("clusterName")]: "platform" }).filter(
        (p) => !p.startsWith(k("clusterName")),
      ),
      [],
    );
  });

  it("says so in each key's description, which starts with its condition", () => {
    const phrases = { create: "create mode", borrow: "borrow mode", adopt: "adopt mode" } as const;
    for (const key of SCOPED) {
      const spec: ConfigKeySpec = CONFIG_KEYS[key];
      const condition = spec.appliesWhen;
      const phrase =
        spec.mode !== undefined
          ? phrases[spec.mode]
          : condition === undefined
            ? ""
            : "set" in condition
              ? `with ${condition.key}`
              : condition.key === "queueType"
                ? `${condition.is} only`
                : condition.key === "ephemeral"
                  ? `${condition.is ? "ephemeral" : "long-lived"} only`
                  : condition.key;
      assert.ok(spec.description.startsWith(phrase), `${key}: "${spec.description}" should start with "${phrase}"`);
      if (spec.mode !== undefined && condition !== undefined && "set" in condition) {
        assert.match(
          spec.description,
          new RegExp(`^${phrase}, ${condition.set ? "with" : "without"} ${condition.key}:`),
          key,
        );
      }
    }
  });
});
