import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { dlqAlarmed } from "../rules/alarms";
import { edit, stackViolations } from "./harness";
import { goodResources, queueArn, queueUrl, resource } from "./fixtures/good-stack";

const message = (source: string) =>
  `"${source}" dead-letters into "consumer-dev-dlq", but no CloudWatch alarm with an action fires when it holds a message; add a MetricAlarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=consumer-dev-dlq) > 0 with alarmActions.`;

describe("dlq-alarmed", () => {
  it("passes a redriving queue whose DLQ has a > 0 alarm with an action", async () => {
    assert.deepEqual(await stackViolations(dlqAlarmed, Object.values(goodResources())), []);
    const good = goodResources();
    const atLeastOne = edit(good.dlqAlarm, { comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1 });
    assert.deepEqual(await stackViolations(dlqAlarmed, Object.values({ ...good, dlqAlarm: atLeastOne })), []);
  });

  it("rejects a redriving queue without an alarm on its DLQ", async () => {
    const { dlqAlarm: _dropped, ...rest } = goodResources();
    assert.deepEqual(await stackViolations(dlqAlarmed, Object.values(rest)), [
      { message: message("consumer-queue"), urn: rest.queue.urn },
    ]);
  });

  it("rejects alarms that watch the wrong thing, fire too late, or tell nobody", async () => {
    const good = goodResources();
    for (const change of [
      { dimensions: { QueueName: "consumer-dev" } },
      { metricName: "ApproximateAgeOfOldestMessage" },
      { threshold: 5 },
      { comparisonOperator: "LessThanThreshold" },
      { alarmActions: [] },
      { actionsEnabled: false },
    ]) {
      const findings = await stackViolations(
        dlqAlarmed,
        Object.values({ ...good, dlqAlarm: edit(good.dlqAlarm, change) }),
      );
      assert.deepEqual(
        findings.map((f) => f.urn),
        [good.queue.urn],
        JSON.stringify(change),
      );
    }
  });

  it("covers redrive policies set as separate RedrivePolicy resources", async () => {
    const { dlqAlarm: _dropped, ...rest } = goodResources();
    const queue = edit(rest.queue, { redrivePolicy: undefined });
    const redrive = resource(AWS.queueRedrivePolicy, "queue-redrive", {
      queueUrl: queueUrl("consumer-dev"),
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("consumer-dev-dlq"), maxReceiveCount: 5 }),
    });
    const findings = await stackViolations(dlqAlarmed, [...Object.values({ ...rest, queue }), redrive]);
    assert.deepEqual(findings, [{ message: message("queue-redrive"), urn: redrive.urn }]);
  });
});
