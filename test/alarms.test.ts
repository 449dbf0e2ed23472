/**
 * The alarms' pure parts and the component alone (infra/alarms.ts): the oldest-message threshold derived
 * from the consumer's and the queue's settings, and the replica-ceiling alarm under in-process mocks. The
 * program's alarms under mocks are in alarms.integration.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_TUNABLES } from "../consumer/src/contract";
import { ConsumerAlarms, oldestMessageAgeThresholdSeconds } from "../infra/alarms";
import { ACCOUNT_ID } from "./helpers/mocks";
import { valid } from "./config/helpers";

describe("oldestMessageAgeThresholdSeconds: an alarm that can fire at the extremes of the allowed settings", () => {
  it("derives from the handler timeout and maxReceiveCount, and stays a minute below the queue's retention", () => {
    // Defaults: visibility 70 s (60 s handler + 10 s margin), retry delay at most 60 s: 5 x 70 + 300.
    assert.equal(oldestMessageAgeThresholdSeconds(DEFAULT_TUNABLES, 5, 345_600), 650);
    assert.equal(
      oldestMessageAgeThresholdSeconds({ handlerTimeoutSeconds: 43_000, retryMaxSeconds: 60 }, 1_000, 1_209_600),
      1_209_540,
      "a minute below the queue's retention, where it can still fire",
    );
  });

  // ApproximateAgeOfOldestMessage cannot exceed the queue's retention: SQS deletes a message that old
  // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
  it("the derived threshold at the smallest settings is a sane number of seconds", () => {
    assert.equal(
      oldestMessageAgeThresholdSeconds({ handlerTimeoutSeconds: 1, retryMaxSeconds: 0 }, 1, 60),
      1,
      "retention 60 s: at least 1 s",
    );
  });

  it("the derived threshold stays below the queue's own retention (default 4 days), not only below 14 days", () => {
    const config = valid({
      "sqs-eks-consumer:maxReceiveCount": "1000",
      "sqs-eks-consumer:consumer": JSON.stringify({ handlerTimeoutSeconds: 3_600 }),
    });
    const threshold = oldestMessageAgeThresholdSeconds(
      config.tunables,
      config.queue.maxReceiveCount,
      config.queue.messageRetentionSeconds,
    );
    assert.ok(
      threshold < config.queue.messageRetentionSeconds,
      `threshold ${threshold} s, retention ${config.queue.messageRetentionSeconds} s`,
    );
  });
});

describe("ConsumerAlarms", () => {
  it("a Container Insights alarm on the namespace's running pods, sustained for the given minutes", async () => {
    const recorded: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
          return {
            id: `${args.name}-id`,
            state: {
              ...(args.inputs as Record<string, unknown>),
              arn: `arn:aws:x:us-west-2:${ACCOUNT_ID}:${args.name}`,
            },
          };
        },
        call: () => ({}),
      },
      "sqs-eks-consumer",
      "ceiling",
      true,
    );
    const component = new ConsumerAlarms("alarms", {
      scope: { project: "sqs-eks-consumer", stack: "ceiling" },
      queues: { queueName: "q", deadLetterQueueName: "q-dlq", arn: `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:q` },
      region: "us-west-2",
      settings: { emails: [], messageAgeSeconds: 600, maxReplicasMinutes: 20 },
      delivery: { tunables: DEFAULT_TUNABLES, queue: { maxReceiveCount: 5, messageRetentionSeconds: 345_600 } },
      replicas: { autoscaling: { enabled: true, maxReplicas: 12 }, clusterName: "shared", namespace: "orders" },
      tags: {},
    });
    await new Promise<void>((resolve) =>
      pulumi.all([component.topicArn, ...component.alarmNames]).apply(() => resolve()),
    );
    const ceiling = recorded.find((r) => r.name === "alarms-max-replicas")?.inputs;
    assert.ok(ceiling, "the alarm exists");
    assert.equal(ceiling.namespace, "ContainerInsights");
    assert.equal(ceiling.metricName, "namespace_number_of_running_pods");
    assert.deepEqual(ceiling.dimensions, { ClusterName: "shared", Namespace: "orders" });
    assert.equal(ceiling.threshold, 12);
    assert.equal(ceiling.comparisonOperator, "GreaterThanOrEqualToThreshold");
    assert.equal(ceiling.statistic, "Minimum");
    assert.equal(ceiling.evaluationPeriods, 20);
  });
});
