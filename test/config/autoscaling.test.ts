import assert from "node:assert/strict";
import { describe, it } from "node:test";
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

  // The oracle, from upstream numbers rather than the program's table: a t3.medium admits 17 pods with the VPC
  // CNI (awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt), two of them aws-node and
  // kube-proxy, so 2 nodes leave 30 pods; CoreDNS (2) and KEDA (3) take 5 of them.
  const NODE_GROUP = {
    ...ON,
    [k("nodeProvisioning")]: "node-group",
    [k("nodeInstanceType")]: "t3.medium",
    [k("nodeMinCount")]: "2",
    [k("nodeDesiredCount")]: "2",
    [k("nodeMaxCount")]: "3",
  };

  it("with a managed node group, refuses a maxReplicas its desired nodes cannot hold, naming the key", () => {
    // 24 pods + 1 surge + 5 system = 30: fits exactly; 25 + 1 + 5 = 31 does not.
    assert.ok(valid({ ...NODE_GROUP, [k("maxReplicas")]: "24" }).autoscaling.enabled);
    const refused = problems({ ...NODE_GROUP, [k("maxReplicas")]: "25" });
    assert.deepEqual([...refused.keys()], [k("maxReplicas")]);
    assert.match(refused.get(k("maxReplicas")) ?? "", /^25 pods .*short of pods.*never adds nodes by itself/);
    assert.match(refused.get(k("maxReplicas")) ?? "", /set nodeProvisioning to auto-mode/);
    // nodeMaxCount is what nothing ever reaches: raising it alone changes nothing.
    assert.ok(problems({ ...NODE_GROUP, [k("maxReplicas")]: "25", [k("nodeMaxCount")]: "50" }).has(k("maxReplicas")));
  });

  it("with a managed node group and autoscaling off, names replicas instead", () => {
    const refused = problems({ [k("nodeProvisioning")]: "node-group", [k("replicas")]: "40" });
    assert.deepEqual([...refused.keys()], [k("replicas")]);
  });

  it("under EKS Auto Mode (the default) checks no node capacity: nodes are launched for pending pods", () => {
    const { cluster } = valid({});
    assert.equal(cluster.mode === "create" ? cluster.nodeProvisioning : cluster.mode, "auto-mode");
    assert.ok(valid({ ...ON, [k("maxReplicas")]: "100" }).autoscaling.enabled);
  });
});
