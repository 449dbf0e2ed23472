import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { dlqAlarmed } from "../rules/alarms";
import { edit, stackViolations } from "./harness";
import { goodResources, queueArn, queueUrl, resource } from "./fixtures/good-stack";

const message = (source: string) =>
  `"${source}" dead-letters into "consumer-dev-dlq", but no CloudWatch alarm with an action fires when it holds a message; add a MetricAlarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=consumer-dev-dlq) > 0 with alarmActions.`;

/** The URNs dlq-alarmed blames when the good stack's DLQ alarm gets `change`. */
async function blamed(change: Record<string, unknown>): Promise<(string | undefined)[]> {
  const good = goodResources();
  return (await stackViolations(dlqAlarmed, Object.values({ ...good, dlqAlarm: edit(good.dlqAlarm, change) }))).map(
    (f) => f.urn,
  );
}

describe("dlq-alarmed", () => {
  it("passes a redriving queue whose DLQ has a > 0 alarm with an action", async () => {
    assert.deepEqual(await stackViolations(dlqAlarmed, Object.values(goodResources())), []);
    assert.deepEqual(await blamed({ comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1 }), []);
  });

  it("rejects a redriving queue without an alarm on its DLQ", async () => {
    const { dlqAlarm: _dropped, ...rest } = goodResources();
    assert.deepEqual(await stackViolations(dlqAlarmed, Object.values(rest)), [
      { message: message("consumer-queue"), urn: rest.queue.urn },
    ]);
  });

  it("rejects alarms that watch the wrong thing, fire too late, or tell nobody", async () => {
    for (const change of [
      { dimensions: { QueueName: "consumer-dev" } },
      { metricName: "ApproximateAgeOfOldestMessage" },
      { threshold: 5 },
      { comparisonOperator: "LessThanThreshold" },
      { alarmActions: [] },
      { actionsEnabled: false },
    ]) {
      assert.deepEqual(await blamed(change), [goodResources().queue.urn], JSON.stringify(change));
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

/**
 * Alarms that look right to a reader but can never fire, or fire always and so never tell anyone that a
 * message arrived. CloudWatch matches a metric by namespace, name, the exact set of dimensions and, when
 * the alarm sets one, the unit; SQS publishes ApproximateNumberOfMessagesVisible with the single
 * dimension QueueName and unit Count
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
 */
describe("dlq-alarmed: alarms that cannot do their job", () => {
  it("an extra dimension: no SQS data point has it, so the alarm never fires", async () => {
    assert.deepEqual(await blamed({ dimensions: { QueueName: "consumer-dev-dlq", Region: "eu-west-1" } }), [
      goodResources().queue.urn,
    ]);
  });

  it("a unit SQS does not publish the metric in (Seconds): no data, never fires", async () => {
    assert.deepEqual(await blamed({ unit: "Seconds" }), [goodResources().queue.urn]);
  });

  it("the unit SQS publishes (Count) is fine", async () => {
    assert.deepEqual(await blamed({ unit: "Count" }), []);
  });

  it("a negative threshold is always breached: the alarm sits in ALARM and never reports a new message", async () => {
    assert.deepEqual(await blamed({ threshold: -1 }), [goodResources().queue.urn]);
    assert.deepEqual(await blamed({ comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 0 }), [
      goodResources().queue.urn,
    ]);
  });

  it("a fractional threshold between 0 and 1 still fires on one message", async () => {
    assert.deepEqual(await blamed({ threshold: 0.5 }), []);
  });

  it("an alarm with only okActions or insufficientDataActions tells nobody when it fires", async () => {
    assert.deepEqual(await blamed({ alarmActions: undefined, okActions: ["arn:aws:sns:eu-west-1:123456789012:t"] }), [
      goodResources().queue.urn,
    ]);
  });

  it("a RedrivePolicy resource pointing at a DLQ whose alarm watches another DLQ", async () => {
    const good = goodResources();
    const queue = edit(good.queue, { redrivePolicy: undefined });
    const redrive = resource(AWS.queueRedrivePolicy, "queue-redrive", {
      queueUrl: queueUrl("consumer-dev"),
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("consumer-dev-dlq-2"), maxReceiveCount: 5 }),
    });
    const findings = await stackViolations(dlqAlarmed, [...Object.values({ ...good, queue }), redrive]);
    assert.deepEqual(
      findings.map((f) => f.urn),
      [redrive.urn],
    );
  });
});
