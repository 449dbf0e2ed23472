import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { instanceVcpus } from "../../infra/config/cross-checks";
import { k, problems, valid } from "./helpers";

const ON = { [k("autoscaling")]: "keda" };

describe("autoscaling config", () => {
  it("is off by default, and on with KEDA's defaults and messagesPerPod from the consumer's handler concurrency", () => {
    assert.deepEqual(valid({}).autoscaling, { enabled: false });
    assert.deepEqual(valid(ON).autoscaling, {
      enabled: true,
      minReplicas: 0,
      maxReplicas: 10,
      messagesPerPod: 100,
      activationMessages: 0,
      pollingIntervalSeconds: 15,
      cooldownPeriodSeconds: 300,
      fallbackReplicas: 2,
      scaleDownStabilizationSeconds: 300,
    });
    const tuned = valid({
      ...ON,
      [k("consumer")]: JSON.stringify({ handlerConcurrency: 40 }),
      [k("messagesPerPod")]: "0",
    }).autoscaling;
    assert.ok(tuned.enabled && tuned.messagesPerPod === 40);
    const explicit = valid({ ...ON, [k("messagesPerPod")]: "25" }).autoscaling;
    assert.ok(explicit.enabled && explicit.messagesPerPod === 25);
  });

  it("keeps the scale-down window longer than the pods' termination grace period", () => {
    const long = valid({
      ...ON,
      [k("consumer")]: JSON.stringify({ shutdownBudgetSeconds: 600, waitTimeSeconds: 20 }),
    }).autoscaling;
    assert.ok(long.enabled);
    assert.equal(long.scaleDownStabilizationSeconds, 610, "600 s budget + 10 s margin");
  });

  it("rejects an unknown mode, naming the choices", () => {
    assert.equal(problems({ [k("autoscaling")]: "hpa" }).get(k("autoscaling")), 'must be one of off, keda, got "hpa"');
  });

  it("rejects tuning keys while autoscaling is off, each by name", () => {
    const found = problems({ [k("maxReplicas")]: "20", [k("pollingIntervalSeconds")]: "5" });
    const reason = "applies only when autoscaling is keda (this stack's autoscaling is off); remove it";
    assert.equal(found.get(k("maxReplicas")), reason);
    assert.equal(found.get(k("pollingIntervalSeconds")), reason);
  });

  it("checks the settings against each other and names every bad key at once", () => {
    const found = problems({
      ...ON,
      [k("minReplicas")]: "0",
      [k("maxReplicas")]: "4",
      [k("messagesPerPod")]: "10",
      [k("activationMessages")]: "40",
      [k("pollingIntervalSeconds")]: "60",
      [k("cooldownPeriodSeconds")]: "30",
      [k("replicas")]: "6",
    });
    assert.deepEqual(
      [...found.keys()].sort(),
      [k("activationMessages"), k("cooldownPeriodSeconds"), k("replicas")].sort(),
    );
    assert.equal(
      found.get(k("activationMessages")),
      "40 is not below messagesPerPod x maxReplicas (10 x 4): the first pod would start only when every pod is already needed",
    );
    assert.equal(
      found.get(k("cooldownPeriodSeconds")),
      "30 is below pollingIntervalSeconds (60): a single empty reading would scale the consumer to zero",
    );
    assert.equal(
      found.get(k("replicas")),
      "6 is outside minReplicas..maxReplicas (1..4); with autoscaling on, replicas is the count KEDA holds while the queue cannot be read",
    );
  });

  it("rejects maxReplicas below minReplicas", () => {
    assert.equal(
      problems({ ...ON, [k("minReplicas")]: "5", [k("maxReplicas")]: "3", [k("replicas")]: "3" }).get(k("maxReplicas")),
      "3 is below minReplicas (5)",
    );
  });

  it("allows a short cooldown when the deployment never scales to zero", () => {
    assert.ok(valid({ ...ON, [k("minReplicas")]: "1", [k("cooldownPeriodSeconds")]: "0" }).autoscaling.enabled);
  });

  it("rejects more pods than created nodes of a known size can hold, and skips the check where the size is unknown", () => {
    const big = {
      ...ON,
      [k("maxReplicas")]: "100",
      [k("cpuRequestMillicores")]: "500",
      [k("cpuLimitMillicores")]: "500",
    };
    assert.equal(
      problems(big).get(k("maxReplicas")),
      "100 pods request 50000m CPU (cpuRequestMillicores 500), more than nodeMaxCount x t3.medium offers (3 x 2 vCPU = 6000m, before system pods); lower maxReplicas or raise nodeMaxCount",
    );
    assert.ok(valid({ ...big, [k("nodeInstanceType")]: "m5.metal" }).autoscaling.enabled, "unknown size: not checked");
    assert.ok(
      valid({ ...big, [k("nodeDesiredCount")]: "14", [k("nodeMaxCount")]: "14", [k("nodeInstanceType")]: "m7i.xlarge" })
        .autoscaling.enabled,
      "14 x 4 vCPU, less what the kubelet and the system pods keep",
    );
  });

  it("reads vCPUs from the size where the name alone tells", () => {
    assert.deepEqual(
      ["t3.medium", "m7i.large", "c7g.xlarge", "r7i.4xlarge", "m5.metal", "t3.small", "m7i.medium"].map(instanceVcpus),
      [2, 2, 4, 16, undefined, undefined, undefined],
    );
  });
});
